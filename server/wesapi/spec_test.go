package wesapi

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// documentSHA256 pins the embedded document; spec/README.md records it too.
const documentSHA256 = "9cdbcdf5871a05dec05b90e2dc10e8d8cb60a84efda6e17d3531a21c1129e467"

func TestDocumentIsTheOfficialOne(t *testing.T) {
	sum := sha256.Sum256(Document())
	if got := hex.EncodeToString(sum[:]); got != documentSHA256 {
		t.Errorf("embedded document changed: sha256 %s, want %s", got, documentSHA256)
	}
	doc := validator(t).Document()
	if doc.Info.Version != SpecVersion {
		t.Errorf("info.version = %q, want %q", doc.Info.Version, SpecVersion)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != BasePath {
		t.Errorf("servers = %v, want only %s", doc.Servers, BasePath)
	}
}

func TestServiceInfoRefResolvedFromEmbeddedCopy(t *testing.T) {
	doc := validator(t).Document()
	service := doc.Components.Schemas["ServiceInfo"].Value.AllOf[0].Value
	for _, field := range []string{"id", "name", "type", "organization", "version"} {
		if !slices.Contains(service.Required, field) {
			t.Errorf("service-info Service does not require %q", field)
		}
	}
	if _, err := readEmbedded(nil, &url.URL{Scheme: "https", Host: "example.com", Path: "/x.yaml"}); err == nil {
		t.Error("an unknown external reference was not refused")
	}
}

func TestStatesMatchSpec(t *testing.T) {
	var enum []State
	for _, v := range validator(t).Document().Components.Schemas["State"].Value.Enum {
		enum = append(enum, State(v.(string)))
	}
	if !slices.Equal(enum, States) {
		t.Errorf("States = %v, spec enum = %v", States, enum)
	}
}

// TestJSONNamesMatchSchemas checks every json tag against the properties
// of the schema the Go type stands for.
func TestJSONNamesMatchSchemas(t *testing.T) {
	pairs := map[string]any{
		"ServiceInfo": ServiceInfo{}, "RunListResponse": RunListResponse{},
		"RunSummary": RunSummary{}, "RunId": RunId{}, "RunStatus": RunStatus{},
		"RunLog": RunLog{}, "Log": Log{}, "TaskLog": TaskLog{},
		"TaskListResponse": TaskListResponse{}, "RunRequest": RunRequest{},
		"ErrorResponse": ErrorResponse{}, "WorkflowTypeVersion": WorkflowTypeVersion{},
		"WorkflowEngineVersion":          WorkflowEngineVersion{},
		"DefaultWorkflowEngineParameter": DefaultWorkflowEngineParameter{},
	}
	schemas := validator(t).Document().Components.Schemas
	for name, v := range pairs {
		props := properties(schemas[name].Value)
		typ := reflect.TypeOf(v)
		for i := range typ.NumField() {
			tag, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			if !props[tag] {
				t.Errorf("%s.%s: json name %q is not a property of schema %s",
					typ.Name(), typ.Field(i).Name, tag, name)
			}
		}
	}
}

// properties collects a schema's property names, through allOf.
func properties(s *openapi3.Schema) map[string]bool {
	out := map[string]bool{}
	for name := range s.Properties {
		out[name] = true
	}
	for _, part := range s.AllOf {
		for name := range properties(part.Value) {
			out[name] = true
		}
	}
	return out
}
