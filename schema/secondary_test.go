package schema

import "testing"

func TestSecondaryName(t *testing.T) {
	cases := []struct{ base, pattern, want string }{
		{"reads.bam", ".bai", "reads.bam.bai"},
		{"reads.bam", "^.bai", "reads.bai"},
		{"a.tar.gz", "^^.idx", "a.idx"},
		{"noext", "^.x", "noext.x"},
	}
	for _, c := range cases {
		if got := SecondaryName(c.base, c.pattern); got != c.want {
			t.Errorf("SecondaryName(%q, %q) = %q, want %q", c.base, c.pattern, got, c.want)
		}
	}
}
