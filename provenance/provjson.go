package provenance

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"
)

// provPrefixes are the namespaces of the qualified names used below.
// Files are keyed by content as cwltool's CWLProv does ("data:<sha1>"),
// so the same bytes used by one step and made by another are one entity.
var provPrefixes = map[string]string{
	"prov":    "http://www.w3.org/ns/prov#",
	"xsd":     "http://www.w3.org/2001/XMLSchema#",
	"wfprov":  "http://purl.org/wf4ever/wfprov#",
	"wfdesc":  "http://purl.org/wf4ever/wfdesc#",
	"data":    "urn:hash::sha1:",
	"sha256":  "urn:hash::sha256:",
	"run":     "urn:flow:run:",
	"job":     "urn:flow:job:",
	"process": "urn:flow:process:",
	"agent":   "urn:flow:agent:",
	"flow":    "https://github.com/flow-cwl/flow/ns#",
}

// provDoc is a W3C PROV-JSON document (https://www.w3.org/submissions/prov-json/).
type provDoc struct {
	Prefix            map[string]string         `json:"prefix"`
	Entity            map[string]map[string]any `json:"entity"`
	Activity          map[string]map[string]any `json:"activity"`
	Agent             map[string]map[string]any `json:"agent"`
	Used              map[string]map[string]any `json:"used"`
	WasGeneratedBy    map[string]map[string]any `json:"wasGeneratedBy"`
	WasAssociatedWith map[string]map[string]any `json:"wasAssociatedWith"`
	WasStartedBy      map[string]map[string]any `json:"wasStartedBy"`
	ActedOnBehalfOf   map[string]map[string]any `json:"actedOnBehalfOf"`
	n                 int                       // counter for relation ids
}

// WritePROVJSON writes a run's provenance as W3C PROV-JSON: the run and
// each step attempt are activities (an attempt started by the run), the
// workflow and tools are plans, files are entities named by their sha1
// with the paths they had, and used / wasGeneratedBy link them.
func WritePROVJSON(ctx context.Context, s Store, runID string, w io.Writer) error {
	run, err := s.GetRun(ctx, runID)
	if err != nil {
		return err
	}
	atts, err := s.Attempts(ctx, run.ID)
	if err != nil {
		return err
	}
	d := &provDoc{Prefix: provPrefixes, Entity: map[string]map[string]any{}, Activity: map[string]map[string]any{},
		Agent: map[string]map[string]any{}, Used: map[string]map[string]any{}, WasGeneratedBy: map[string]map[string]any{},
		WasAssociatedWith: map[string]map[string]any{}, WasStartedBy: map[string]map[string]any{},
		ActedOnBehalfOf: map[string]map[string]any{}}
	runAct := d.addRun(run)
	for _, a := range atts {
		if a.State != StepSkipped {
			d.addAttempt(a, runAct, run.Started)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return fmt.Errorf("cannot write the PROV-JSON of run %s: %w", run.ID, err)
	}
	return nil
}

func (d *provDoc) relID() string {
	d.n++
	return fmt.Sprintf("_:r%d", d.n)
}

func (d *provDoc) addRun(r *Run) string {
	act := "run:" + r.ID
	attrs := map[string]any{"prov:type": "wfprov:WorkflowRun", "prov:label": "run " + r.ID + " of " + r.Workflow,
		"flow:state": string(r.State)}
	setProvTimes(attrs, r.Started, r.Finished)
	if r.Error != "" {
		attrs["flow:error"] = r.Error
	}
	d.Activity[act] = attrs

	plan := d.plan(r.Workflow, "wfdesc:Workflow")
	if r.WorkflowDigest != "" {
		d.Entity[plan]["flow:digest"] = r.WorkflowDigest
	}
	engine := "agent:flow"
	d.Agent[engine] = map[string]any{"prov:type": "prov:SoftwareAgent", "prov:label": strings.TrimSpace("flow " + r.FlowVersion)}
	d.WasAssociatedWith[d.relID()] = map[string]any{"prov:activity": act, "prov:agent": engine, "prov:plan": plan}
	if r.User != "" {
		user := "agent:" + qname(r.User)
		d.Agent[user] = map[string]any{"prov:type": "prov:Person", "prov:label": r.User}
		d.ActedOnBehalfOf[d.relID()] = map[string]any{"prov:delegate": engine, "prov:responsible": user, "prov:activity": act}
		d.WasAssociatedWith[d.relID()] = map[string]any{"prov:activity": act, "prov:agent": user}
	}
	for _, f := range cwlFiles(r.Inputs) {
		d.use(act, f.Ref, r.Started, f.Param)
	}
	for _, f := range cwlFiles(r.Outputs) {
		d.generate(act, f.Ref, r.Finished, f.Param)
	}
	return act
}

func (d *provDoc) addAttempt(a *Attempt, runAct string, runStart time.Time) {
	act := "job:" + qname(fmt.Sprintf("%s/%s/%d", a.RunID, a.Job, a.Attempt))
	attrs := map[string]any{"prov:type": "wfprov:ProcessRun", "prov:label": fmt.Sprintf("job %s, attempt %d", a.Job, a.Attempt),
		"flow:state": string(a.State), "flow:exitCode": a.ExitCode}
	setProvTimes(attrs, a.Started, a.Finished)
	for k, v := range map[string]string{"flow:step": a.StepID, "flow:commandLine": shellJoin(a.CommandLine),
		"flow:image": a.Image, "flow:host": a.Host, "flow:error": a.Error, "flow:cacheKey": a.CacheKey} {
		if v != "" {
			attrs[k] = v
		}
	}
	d.Activity[act] = attrs
	d.WasStartedBy[d.relID()] = map[string]any{"prov:activity": act, "prov:starter": runAct, "prov:time": provTime(a.Started, runStart)}
	d.WasAssociatedWith[d.relID()] = map[string]any{"prov:activity": act, "prov:agent": "agent:flow", "prov:plan": d.plan(a.Tool, "wfdesc:Process")}
	for _, f := range a.Used {
		d.use(act, f, a.Started, "")
	}
	for _, f := range a.Generated {
		end := a.Finished
		if end.IsZero() {
			end = a.Started
		}
		d.generate(act, f, end, "")
	}
}

// plan adds the entity for a workflow or tool document.
func (d *provDoc) plan(process, typ string) string {
	id := "process:" + qname(process)
	if d.Entity[id] == nil {
		d.Entity[id] = map[string]any{"prov:type": []any{"prov:Plan", typ}, "prov:label": process}
	}
	return id
}

// file adds or extends the entity of a content, collecting its paths.
func (d *provDoc) file(f FileRef) string {
	key := hexOf(f.SHA1)
	if key == "" {
		key = "path-" + qname(f.Path) // content unknown: the best name left is the path
	}
	id := "data:" + key
	e := d.Entity[id]
	if e == nil {
		e = map[string]any{"prov:type": "wfprov:Artifact", "prov:label": f.Path, "flow:size": f.Size, "flow:path": []string{}}
		if f.SHA1 != "" {
			e["flow:sha1"] = f.SHA1
		}
		d.Entity[id] = e
	}
	if paths := e["flow:path"].([]string); f.Path != "" && !slices.Contains(paths, f.Path) {
		e["flow:path"] = append(paths, f.Path)
	}
	return id
}

func (d *provDoc) use(act string, f FileRef, t time.Time, role string) {
	rel := map[string]any{"prov:activity": act, "prov:entity": d.file(f)}
	setRelation(rel, t, role)
	d.Used[d.relID()] = rel
}

func (d *provDoc) generate(act string, f FileRef, t time.Time, role string) {
	rel := map[string]any{"prov:entity": d.file(f), "prov:activity": act}
	setRelation(rel, t, role)
	d.WasGeneratedBy[d.relID()] = rel
}

func setRelation(rel map[string]any, t time.Time, role string) {
	if !t.IsZero() {
		rel["prov:time"] = t.Format(time.RFC3339Nano)
	}
	if role != "" {
		rel["prov:role"] = role
	}
}

func setProvTimes(attrs map[string]any, start, end time.Time) {
	if !start.IsZero() {
		attrs["prov:startTime"] = start.Format(time.RFC3339Nano)
	}
	if !end.IsZero() {
		attrs["prov:endTime"] = end.Format(time.RFC3339Nano)
	}
}

func provTime(t, fallback time.Time) string {
	if t.IsZero() {
		t = fallback
	}
	return t.Format(time.RFC3339Nano)
}

// qname escapes s for the local part of a qualified name: PROV-N allows
// percent-encoded characters there, but not '#', '/', spaces and the like.
func qname(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}
