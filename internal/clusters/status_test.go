package clusters

import (
	"reflect"
	"testing"
)

func TestParseSinfo(t *testing.T) {
	got := parseSinfo("debug*|up|1|idle\nbig|up|3|mix\nbig|up|1|drain*\nold|down|2|down\n")
	want := []Partition{
		{Name: "debug", Avail: "up", Up: true, Default: true, Nodes: map[string]int{"idle": 1}},
		{Name: "big", Avail: "up", Up: true, Nodes: map[string]int{"mix": 3, "drain": 1}},
		{Name: "old", Avail: "down", Nodes: map[string]int{"down": 2}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseSinfo:\n got %+v\nwant %+v", got, want)
	}
}

func TestParseDf(t *testing.T) {
	if got := parseDf("/dev/vda 263174212 14212345 248961867 6% /\n"); got != 248961867*1024 {
		t.Errorf("free = %d", got)
	}
	if got := parseDf("garbage"); got != -1 {
		t.Errorf("unreadable df gives %d, want -1", got)
	}
}
