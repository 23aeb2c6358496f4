package executors

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestRegistry(t *testing.T) {
	boom := errors.New("boom")
	reg := Registry{
		"slurm": func(context.Context) (Executor, error) { return nil, boom },
		"local": func(context.Context) (Executor, error) { return nil, nil },
	}
	if got := reg.Names(); !slices.Equal(got, []string{"local", "slurm"}) {
		t.Errorf("Names() = %v", got)
	}
	_, err := reg.New(context.Background(), "pbs")
	if !errors.Is(err, ErrUnknownExecutor) || !strings.Contains(err.Error(), `"pbs"`) || !strings.Contains(err.Error(), "local, slurm") {
		t.Errorf("New(pbs) = %v", err)
	}
	if _, err := reg.New(context.Background(), "slurm"); !errors.Is(err, boom) || !strings.Contains(err.Error(), "slurm executor") {
		t.Errorf("New(slurm) = %v", err)
	}
	if _, err := reg.New(context.Background(), "local"); err != nil {
		t.Errorf("New(local) = %v", err)
	}
}

func TestTaskValidate(t *testing.T) {
	ok := Task{ID: "a", Argv: []string{"true"}, Dir: "/"}
	if err := ok.Validate(); err != nil {
		t.Errorf("valid task: %v", err)
	}
	for want, tk := range map[string]Task{
		"a task has no id":               {Argv: []string{"true"}, Dir: "/"},
		`task "a" has no command`:        {ID: "a", Argv: []string{""}, Dir: "/"},
		`task "a" has no working`:        {ID: "a", Argv: []string{"true"}},
		`task "a" has a negative time`:   {ID: "a", Argv: []string{"true"}, Dir: "/", TimeLimit: -1},
		`task "a" asks for negative res`: {ID: "a", Argv: []string{"true"}, Dir: "/", Resources: Resources{RAMMiB: -1}},
	} {
		if err := tk.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want %q", err, want)
		}
	}
}

func TestResultSuccess(t *testing.T) {
	for res, want := range map[Result]bool{
		{}:                                true,
		{ExitCode: 1}:                     false,
		{ExitCode: -1, Signal: "SIGKILL"}: false,
		{TimedOut: true}:                  false,
	} {
		if res.Success() != want {
			t.Errorf("%+v.Success() = %v", res, !want)
		}
	}
}
