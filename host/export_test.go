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

// InstantiateOnce creates and closes one instance, for benchmarks.
func (p *Plugin) InstantiateOnce(ctx context.Context) error {
	inst, err := p.newInstance(ctx)
	if err != nil {
		return err
	}
	inst.close(ctx)
	p.live.Add(-1)
	return nil
}

// Compile compiles code and releases it, for benchmarks.
func (r *Runtime) Compile(ctx context.Context, code []byte) error {
	c, err := r.rt.CompileModule(ctx, code)
	if err != nil {
		return err
	}
	return c.Close(ctx)
}
