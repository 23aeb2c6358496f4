package executors

import "errors"

// Sentinels the engine branches on with errors.Is. Executors wrap them in
// sentences that name the task or command concerned.
var (
	// ErrNotFound: the command does not exist or cannot be executed. This
	// is a permanent failure; running the task again will not help.
	ErrNotFound = errors.New("command not found")

	// ErrLost: the executor cannot tell how the task ended, for example
	// because it finished while flow was not running. Its outputs, if any,
	// cannot be trusted without checking.
	ErrLost = errors.New("task lost")

	// ErrUnknownTask: the handle names no task this executor is tracking:
	// it was never started here, was already waited for, or dates from
	// before a restart and was not recovered.
	ErrUnknownTask = errors.New("unknown task")

	// ErrUnsupported: the executor cannot do what was asked on this
	// platform or in this configuration.
	ErrUnsupported = errors.New("not supported by this executor")

	// ErrUnknownExecutor: a Registry has no executor by that name.
	ErrUnknownExecutor = errors.New("unknown executor")
)
