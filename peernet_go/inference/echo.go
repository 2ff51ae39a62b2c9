package inference

import "context"

// Echo is a model that returns its input unchanged, bytes and encoding: the
// reply is as large as the sample, which measures the download path with
// the upload's payload.
type Echo struct{}

var _ Model = Echo{}

// Infer returns in. The Engine turns an Input into an Output with the same
// Data and Encoding; Data aliases the input's, so it is valid as long as the
// input is.
func (Echo) Infer(ctx context.Context, in any) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return in, nil
}
