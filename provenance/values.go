package provenance

import "github.com/flow-cwl/flow/internal/cwljson"

// decodeRecord decodes a stored record with its CWL values as flow holds
// them: integers as int64, other numbers as float64, numbers neither holds
// exactly as their literal (see cwljson).
func decodeRecord(data []byte, v any) error {
	if err := cwljson.Decode(data, v); err != nil {
		return err
	}
	switch r := v.(type) {
	case *Run:
		cwljson.Normalize(r.Inputs)
		cwljson.Normalize(r.Outputs)
	case *Attempt:
		cwljson.Normalize(r.Outputs)
	case *CacheEntry:
		cwljson.Normalize(r.Outputs)
	}
	return nil
}
