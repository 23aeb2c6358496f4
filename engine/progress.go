package engine

// ProgressKind names what a ProgressEvent reports.
type ProgressKind int

const (
	// WorkflowStarted: a workflow (Name) begins with Jobs steps.
	WorkflowStarted ProgressKind = iota
	// StepStarted: step Name's inputs are ready; it has Jobs jobs (its
	// scatter's width, or 1).
	StepStarted
	// StepDone: step Name finished, Skipped of its Jobs jobs because
	// their when was false.
	StepDone
	// JobStarted, JobEnded: the command of job Name ("main/step/3" in a
	// scatter) started, or ended.
	JobStarted
	JobEnded
	// JobDone: job Name of a scatter is finished, whether it ran, was
	// reused from the cache or skipped, successfully or not.
	JobDone
)

// ProgressEvent is what Options.Progress is told.
type ProgressEvent struct {
	Kind    ProgressKind
	Name    string
	Jobs    int
	Skipped int
}

// progress tells Options.Progress, if set.
func (e *Engine) progress(ev ProgressEvent) {
	if e.opts.Progress != nil {
		e.opts.Progress(ev)
	}
}
