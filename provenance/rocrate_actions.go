package provenance

import (
	"encoding/json"
	"fmt"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// Values of schema.org actionStatus.
const (
	statusCompleted = "http://schema.org/CompletedActionStatus"
	statusFailed    = "http://schema.org/FailedActionStatus"
	statusActive    = "http://schema.org/ActiveActionStatus"
)

// addRun adds the CreateAction of the whole run, its inputs (object) and
// outputs (result), and the workflow's formal parameters they realise.
func (c *crate) addRun() error {
	id := "#run-" + c.run.ID
	act := c.add(entity{
		"@id": id, "@type": "CreateAction",
		"name":       "Run of workflow " + c.run.Workflow,
		"instrument": ref(c.wfID),
		"object":     []any{}, "result": []any{},
	})
	setTimes(act, c.run.Started, c.run.Finished)
	setStatus(act, runStatus(c.run.State), c.run.Error)
	if c.run.User != "" {
		person := c.add(entity{"@id": "#person-" + url.PathEscape(c.run.User), "@type": "Person", "name": c.run.User})
		act["agent"] = ref(person["@id"].(string))
	}
	c.root["mentions"] = []any{ref(id)}
	if err := c.addParams(act, "input", "object", "inputs", c.run.Inputs); err != nil {
		return err
	}
	return c.addParams(act, "output", "result", "outputs", c.run.Outputs)
}

// addParams describes one side of the workflow's interface: a
// FormalParameter per name, realised by File entities (copied into
// folder) or by a PropertyValue for other values.
func (c *crate) addParams(act entity, side, prop, folder string, values map[string]any) error {
	for _, name := range sortedKeys(values) {
		v := values[name]
		if v == nil {
			continue
		}
		paramID := c.uniqueID(c.wfID + "#" + name)
		param := c.add(entity{"@id": paramID, "@type": "FormalParameter", "name": name, "additionalType": cwlTypeName(v)})
		if _, isArray := v.([]any); isArray {
			param["multipleValues"] = true
		}
		appendRef(c.wf, side, paramID)
		var files []FileRef
		walkFiles(v, func(f FileRef) { files = append(files, f) })
		if len(files) == 0 {
			pv := c.add(entity{"@id": c.uniqueID("#pv-" + name), "@type": "PropertyValue", "name": name,
				"value": propertyValue(v), "exampleOfWork": ref(paramID)})
			appendRef(act, prop, pv["@id"].(string))
			continue
		}
		for _, f := range files {
			fid, err := c.file(f, folder)
			if err != nil {
				return err
			}
			appendRef(c.byID[fid], "exampleOfWork", paramID)
			appendRef(act, prop, fid)
		}
	}
	return nil
}

// cwlTypeName maps a CWL value to the additionalType the Workflow Run
// Crate profile gives a FormalParameter (an array maps to its items'
// type, with multipleValues).
func cwlTypeName(v any) string {
	switch v := v.(type) {
	case []any:
		if len(v) > 0 {
			return cwlTypeName(v[0])
		}
		return "Text"
	case map[string]any:
		switch v["class"] {
		case "File":
			return "File"
		case "Directory":
			return "Dataset"
		}
		return "PropertyValue"
	case bool:
		return "Boolean"
	case int64, int:
		return "Integer"
	case float64:
		return "Float"
	case json.Number: // an exact literal (see cwljson)
		if strings.ContainsAny(string(v), ".eE") {
			return "Float"
		}
		return "Integer"
	}
	return "Text"
}

// propertyValue gives scalars as they are and anything else as JSON text.
func propertyValue(v any) any {
	switch v.(type) {
	case string, bool, int64, int, float64, json.Number:
		return v
	}
	js, _ := json.Marshal(v)
	return string(js)
}

// addSteps adds, for every attempt that ran, the tool it ran (part of the
// workflow), the step (a HowToStep of the workflow), the CreateAction of
// the tool run with the files it used and made, and the ControlAction by
// which the engine orchestrated it; then the engine's OrganizeAction.
func (c *crate) addSteps(atts []*Attempt) error {
	var controls []any
	for _, a := range atts {
		if a.State == StepSkipped {
			continue // `when` was false: nothing ran
		}
		actID, err := c.addAttempt(a)
		if err != nil {
			return err
		}
		if a.StepID == "" {
			continue // a lone tool: no step orchestrated it
		}
		stepID := c.addStep(a)
		ctl := c.add(entity{"@id": actID + "/control", "@type": "ControlAction",
			"name": "orchestrate " + a.StepID, "instrument": ref(stepID), "object": ref(actID)})
		setStatus(ctl, attemptStatus(a.State), "")
		controls = append(controls, ref(ctl["@id"].(string)))
	}
	c.addEngine(controls)
	return nil
}

func (c *crate) addAttempt(a *Attempt) (string, error) {
	id := c.uniqueID("#" + (&url.URL{Path: a.Job}).EscapedPath() + fmt.Sprintf("/attempt-%d", a.Attempt))
	act := c.add(entity{
		"@id": id, "@type": "CreateAction",
		"name":       fmt.Sprintf("Run of %s as job %s (attempt %d)", nameOfProcess(a.Tool), a.Job, a.Attempt),
		"instrument": ref(c.tool(a.Tool)),
		"object":     []any{}, "result": []any{},
	})
	setTimes(act, a.Started, a.Finished)
	setStatus(act, attemptStatus(a.State), a.Error)
	if len(a.CommandLine) > 0 {
		act["description"] = "command: " + shellJoin(a.CommandLine)
	}
	if a.State == StepReused {
		act["description"] = "Outputs reused from the step cache (key " + a.CacheKey + ")."
	}
	if a.Image != "" {
		img := c.add(entity{"@id": "#image-" + url.PathEscape(a.Image), "@type": "ContainerImage", "name": a.Image})
		if a.ImageDigest != "" {
			img["sha256"] = strings.TrimPrefix(a.ImageDigest, "sha256:")
		}
		act["containerImage"] = ref(img["@id"].(string))
	}
	for _, name := range sortedKeys(a.Env) {
		pv := c.add(entity{"@id": id + "/env/" + url.PathEscape(name), "@type": "PropertyValue", "name": name, "value": a.Env[name]})
		appendRef(act, "environment", pv["@id"].(string))
	}
	for _, files := range []struct {
		prop string
		refs []FileRef
	}{{"object", a.Used}, {"result", a.Generated}} {
		for _, f := range files.refs {
			fid, err := c.file(f, "")
			if err != nil {
				return "", err
			}
			appendRef(act, files.prop, fid)
		}
	}
	return id, nil
}

// tool returns the @id of the entity for a process: the workflow itself,
// a part of its document ("wf.cwl#sort"), or a tool from another document.
func (c *crate) tool(process string) string {
	if process == c.run.Workflow || process == "" {
		return c.wfID
	}
	if id, ok := c.tools[process]; ok {
		return id
	}
	id := "#tool-" + url.PathEscape(nameOfProcess(process))
	if doc, frag, ok := strings.Cut(process, "#"); ok && docPath(doc) == docPath(c.run.Workflow) {
		id = c.wfID + "#" + frag
	}
	id = c.uniqueID(id)
	c.add(entity{"@id": id, "@type": "SoftwareApplication", "name": nameOfProcess(process), "identifier": process})
	appendRef(c.wf, "hasPart", id)
	c.tools[process] = id
	return id
}

// nameOfProcess is what a person calls a process: its fragment, or its
// document's name.
func nameOfProcess(process string) string {
	if _, frag, ok := strings.Cut(process, "#"); ok && frag != "" {
		return frag
	}
	return path.Base(docPath(process))
}

// addStep returns the HowToStep of a's step, adding it on first sight
// with the position at which the step first started.
func (c *crate) addStep(a *Attempt) string {
	if id, ok := c.steps[a.StepID]; ok {
		return id
	}
	id := c.uniqueID(c.wfID + "#" + a.StepID)
	c.add(entity{"@id": id, "@type": "HowToStep", "name": a.StepID,
		"position": strconv.Itoa(len(c.steps)), "workExample": ref(c.tool(a.Tool))})
	appendRef(c.wf, "step", id)
	c.steps[a.StepID] = id
	return id
}

// addEngine adds flow itself: the OrganizeAction that ran the steps and
// produced the run.
func (c *crate) addEngine(controls []any) {
	name := "flow"
	if c.run.FlowVersion != "" {
		name += " " + c.run.FlowVersion
	}
	c.add(entity{"@id": "#flow", "@type": "SoftwareApplication", "name": name,
		"url": "https://github.com/flow-cwl/flow", "version": c.run.FlowVersion})
	org := c.add(entity{"@id": "#organize-" + c.run.ID, "@type": "OrganizeAction",
		"name": "Run of " + name, "instrument": ref("#flow"),
		"object": controls, "result": ref("#run-" + c.run.ID)})
	setTimes(org, c.run.Started, c.run.Finished)
	if agent, ok := c.byID["#run-"+c.run.ID]["agent"]; ok {
		org["agent"] = agent
	}
}

func setTimes(e entity, start, end time.Time) {
	if !start.IsZero() {
		e["startTime"] = start.Format(time.RFC3339Nano)
	}
	if !end.IsZero() {
		e["endTime"] = end.Format(time.RFC3339Nano)
	}
}

func setStatus(e entity, status, errText string) {
	e["actionStatus"] = ref(status)
	if errText != "" && status == statusFailed {
		e["error"] = errText
	}
}

func runStatus(s RunState) string {
	switch s {
	case RunSucceeded:
		return statusCompleted
	case RunRunning:
		return statusActive
	}
	return statusFailed
}

func attemptStatus(s StepState) string {
	switch s {
	case StepSucceeded, StepReused:
		return statusCompleted
	case StepRunning:
		return statusActive
	}
	return statusFailed
}
