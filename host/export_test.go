package host

import (
	"context"
	"time"
)

// JSONHostFuncs names the JSON-convention host functions as module.name.
func JSONHostFuncs() []string {
	out := make([]string, len(jsonFuncs))
	for i, jf := range jsonFuncs {
		out[i] = jf.fn.Module() + "." + jf.fn.Name
	}
	return out
}

// DispatchJSON runs the i-th JSON host function's decoding and service path
// on guest bytes in, as a host call would, without a guest.
func DispatchJSON(ctx context.Context, env Env, i int, in []byte) (resp []byte, status int32, lastErr string) {
	st := &callState{pluginID: "fuzz", env: &env, deadline: time.Now().Add(time.Second), timeout: time.Second, budget: 1, limit: 1}
	resp, status = st.dispatch(ctx, jsonFuncs[i], in)
	return resp, status, st.lastErr
}
