package provenance

import "time"

// RunState is where a run is in its life.
type RunState string

const (
	RunRunning   RunState = "running"
	RunSucceeded RunState = "succeeded"
	RunFailed    RunState = "failed"
	RunCancelled RunState = "cancelled"
	// RunDamaged is never recorded: ListRuns gives it to a record that
	// cannot be decoded.
	RunDamaged RunState = "damaged"
)

// Run is one execution of a workflow or tool.
type Run struct {
	ID             string         `json:"id"`              // time-ordered, unique; see NewRunID
	Workflow       string         `json:"workflow"`        // absolute document path, with #fragment if any
	WorkflowDigest string         `json:"workflow_digest"` // "sha256:..." of the document text
	Inputs         map[string]any `json:"inputs"`          // the input object as given (locations absolute)
	Outputs        map[string]any `json:"outputs,omitempty"`
	State          RunState       `json:"state"`
	Error          string         `json:"error,omitempty"`
	Started        time.Time      `json:"started"`
	Finished       time.Time      `json:"finished,omitzero"`
	User           string         `json:"user"`
	Host           string         `json:"host"`
	FlowVersion    string         `json:"flow_version"`
	Executor       string         `json:"executor"` // "local", "slurm:hpc1", ...
	Outdir         string         `json:"outdir"`
	WorkDir        string         `json:"work_dir"` // the engine's work directory for this run
	// Documents are the local files the run's document loaded (itself,
	// run: and $import targets, $include'd texts), by content: what the
	// workflow needs to be run again elsewhere.
	Documents []FileRef `json:"documents,omitempty"`
	// ComputeConfig is the compute configuration a cluster run read (its
	// absolute path and checksum), so that --resume finds the cluster again.
	ComputeConfig *FileRef `json:"compute_config,omitempty"`
	// Process is the flow process running it, so that a run whose process
	// died without recording its end is not shown running (see Alive).
	Process *Process `json:"process,omitempty"`
}

// StepState is how a step attempt stands or ended.
type StepState string

const (
	StepRunning   StepState = "running"
	StepSucceeded StepState = "succeeded"
	StepFailed    StepState = "failed"
	StepSkipped   StepState = "skipped" // `when` was false
	StepReused    StepState = "reused"  // outputs taken from the step cache
	StepDamaged   StepState = "damaged" // never recorded: a record that cannot be decoded (see Attempts)
)

// Attempt is one try at one job of a step: a CommandLineTool or
// ExpressionTool run, possibly one element of a scatter.
type Attempt struct {
	RunID        string            `json:"run_id"`
	Job          string            `json:"job"`           // the job's path in the run, e.g. "main/align/3"; unique within a run
	StepID       string            `json:"step_id"`       // the workflow step, e.g. "align" ("" for a lone tool)
	ScatterIndex int               `json:"scatter_index"` // -1 when not scattered
	Attempt      int               `json:"attempt"`       // 1 for the first try
	State        StepState         `json:"state"`
	Tool         string            `json:"tool"` // the process id (document URI with fragment)
	CacheKey     string            `json:"cache_key,omitempty"`
	CommandLine  []string          `json:"command_line,omitempty"`
	Env          map[string]string `json:"env,omitempty"` // without secrets
	WorkDir      string            `json:"work_dir,omitempty"`
	Image        string            `json:"image,omitempty"`
	ImageDigest  string            `json:"image_digest,omitempty"`
	ExitCode     int               `json:"exit_code"`
	Error        string            `json:"error,omitempty"`
	Started      time.Time         `json:"started"`
	Finished     time.Time         `json:"finished,omitzero"`
	MaxRSSKiB    int64             `json:"max_rss_kib,omitempty"`
	CPU          time.Duration     `json:"cpu_ns,omitempty"`
	Host         string            `json:"host,omitempty"`
	JobID        string            `json:"job_id,omitempty"`      // scheduler job id (Slurm)
	Handle       []byte            `json:"handle,omitempty"`      // the executor's serialised handle, for re-attaching
	Stdout       string            `json:"stdout,omitempty"`      // path of the captured stdout (log or output file)
	Stderr       string            `json:"stderr,omitempty"`      // path of the captured stderr
	StderrTail   string            `json:"stderr_tail,omitempty"` // the last few KiB of stderr when it was not captured to a file
	Outputs      map[string]any    `json:"outputs,omitempty"`
	Used         []FileRef         `json:"used,omitempty"`      // input files, by content
	Generated    []FileRef         `json:"generated,omitempty"` // output files, by content
}

// FileRef names a file by place and content.
type FileRef struct {
	Path string `json:"path"`
	SHA1 string `json:"sha1"` // "sha1$..." as CWL writes checksums
	Size int64  `json:"size"`
}

// CacheEntry is a finished job whose outputs can be reused: Dir holds the
// job's output directory, Outputs points into it.
type CacheEntry struct {
	Key      string         `json:"key"`
	Dir      string         `json:"dir"`
	Outputs  map[string]any `json:"outputs"`
	Size     int64          `json:"size"` // bytes under Dir
	Created  time.Time      `json:"created"`
	LastUsed time.Time      `json:"last_used"`
	RunID    string         `json:"run_id"`
	Job      string         `json:"job"`
}
