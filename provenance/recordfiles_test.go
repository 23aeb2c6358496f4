package provenance

import (
	"fmt"
	"testing"
)

// A wide scatter's outputs are recorded in several transactions; every
// one of them is found afterwards, the last batch's as well as the first.
func TestRecordFilesRecordsEveryBatch(t *testing.T) {
	db := openTestDB(t)
	n := 2*recordFilesBatch + 3
	files := make([]FileRef, n)
	for i := range files {
		files[i] = FileRef{Path: fmt.Sprintf("/out/out_%d.txt", n-i), SHA1: fmt.Sprintf("sha1$%040x", i), Size: int64(i)}
	}
	if err := db.RecordFiles(t.Context(), "run1", files); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, recordFilesBatch - 1, recordFilesBatch, n - 1} {
		ref, run, delivered, err := db.WrittenBy(t.Context(), files[i].Path)
		if err != nil || !delivered || run != "run1" || ref.SHA1 != files[i].SHA1 {
			t.Errorf("%s: got %+v of run %q (delivered %v, %v), want %s of run1", files[i].Path, ref, run, delivered, err, files[i].SHA1)
		}
	}
	if err := db.RecordFiles(t.Context(), "run2", []FileRef{files[0], {Path: "relative.txt", SHA1: "sha1$00"}}); err == nil {
		t.Error("a relative path was recorded")
	}
	if _, run, _, _ := db.WrittenBy(t.Context(), files[0].Path); run != "run1" {
		t.Errorf("a refused call recorded %s for run %q", files[0].Path, run)
	}
}
