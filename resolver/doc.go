// Package resolver finds the element a workflow step means in a snapshot of
// the page, with tolerance that grows with the healing level.
//
// A target names the element by any of css, xpath, text, role, label,
// placeholder, near (an anchor text) and the fingerprint (the element's
// record from its last successful use). Resolution tries, in order: exact
// css/xpath (matched over the snapshot's records, so a resolution can be
// replayed offline without a browser); the semantic fields, every one of
// which a candidate must satisfy at the level's fuzzy threshold, with role
// aliases from level 1 and a region of interest around the near anchor
// padded by the level's multiplier; and finally fingerprint healing, a
// weighted multi-attribute similarity (see fingerprint.go) that must clear a
// confidence threshold and a margin over the runner-up. Ambiguity is an
// error (ErrAmbiguous) rather than a guess.
//
// Fuzzy text ratio: texts are lower-cased with white space collapsed, and
// compared by one minus their optimal-string-alignment edit distance over
// the longer length (Ratio). Healing comparisons of remembered texts also
// credit kept words (TextSimilarity), so "Submit" still resembles
// "Submit order".
//
// The package knows nothing of browsers; Service adapts it to the host's
// resolver capability over any snapshot source.
package resolver
