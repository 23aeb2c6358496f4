package wesapi

import (
	"embed"
	"fmt"
	"net/url"

	"github.com/getkin/kin-openapi/openapi3"
)

// BasePath is the URL path under which flowd serves the WES API.
const BasePath = "/ga4gh/wes/v1"

// SpecVersion is the WES version of the embedded document (its info.version).
const SpecVersion = "1.1.0"

// documentLocation is where the embedded document is published upstream;
// references inside it resolve relative to this address.
const documentLocation = "https://raw.githubusercontent.com/ga4gh/" +
	"workflow-execution-service-schemas/1.1.0/openapi/workflow_execution_service.openapi.yaml"

const documentFile = "spec/workflow_execution_service.openapi.yaml"

//go:embed spec/workflow_execution_service.openapi.yaml
//go:embed spec/ga4gh-service-info/v1.0.0/service-info.yaml
var specFS embed.FS

// externalRefs maps each absolute URL that the WES document refers to onto
// the embedded copy that stands in for it. Nothing is ever fetched.
var externalRefs = map[string]string{
	"https://raw.githubusercontent.com/ga4gh-discovery/ga4gh-service-info/v1.0.0/service-info.yaml": "spec/ga4gh-service-info/v1.0.0/service-info.yaml",
}

// Document returns the official WES 1.1.0 OpenAPI document, byte for byte
// as published by GA4GH. Callers get their own copy.
func Document() []byte {
	b, err := specFS.ReadFile(documentFile)
	if err != nil {
		panic("wesapi: embedded document missing: " + err.Error())
	}
	return b
}

// LoadDocument parses and validates the embedded WES document. Its external
// service-info reference is resolved from the embedded copy, and its
// servers list is replaced by the single relative server BasePath, so that
// requests to any host (http://127.0.0.1:PORT/ga4gh/wes/v1/...) route.
func LoadDocument() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = true
	loader.ReadFromURIFunc = readEmbedded
	location, err := url.Parse(documentLocation)
	if err != nil {
		return nil, err
	}
	doc, err := loader.LoadFromDataWithPath(Document(), location)
	if err != nil {
		return nil, fmt.Errorf("wesapi: loading WES document: %w", err)
	}
	doc.Servers = openapi3.Servers{{URL: BasePath}}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("wesapi: WES document is invalid: %w", err)
	}
	return doc, nil
}

// readEmbedded serves the loader's reads from the embedded copies only.
func readEmbedded(_ *openapi3.Loader, u *url.URL) ([]byte, error) {
	plain := *u
	plain.Fragment = ""
	name, ok := externalRefs[plain.String()]
	if !ok {
		return nil, fmt.Errorf("wesapi: no embedded copy of %s (refusing to fetch it)", plain.String())
	}
	return specFS.ReadFile(name)
}
