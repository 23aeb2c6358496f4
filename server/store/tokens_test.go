package store

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

func TestVerifyAcceptsOnlyTheRightLiveToken(t *testing.T) {
	s := openStore(t, t.TempDir())
	secret, tok, err := s.CreateToken("genomics", RoleOperator, "alice laptop")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "flowd_") || len(secret) != len("flowd_")+43 {
		t.Fatalf("secret %q is not flowd_ and 43 base64url characters", secret)
	}
	got, err := s.Verify(secret)
	if err != nil {
		t.Fatalf("the right token was refused: %v", err)
	}
	if got.ID != tok.ID || got.Team != "genomics" || got.Role != RoleOperator {
		t.Fatalf("Verify returned %+v, want %+v", got, tok)
	}

	other, _, err := s.CreateToken("genomics", RoleAdmin, "bob")
	if err != nil {
		t.Fatal(err)
	}
	wrong := secret[:len(secret)-1] + "A"
	if strings.HasSuffix(secret, "A") {
		wrong = secret[:len(secret)-1] + "B"
	}
	for name, bad := range map[string]string{
		"empty":            "",
		"one char changed": wrong,
		"made up":          "flowd_" + strings.Repeat("x", 43),
		"no prefix":        strings.TrimPrefix(secret, "flowd_"),
		"truncated":        secret[:20],
		"padded":           secret + "=",
	} {
		if _, err := s.Verify(bad); err != ErrUnauthorized {
			t.Errorf("%s token: got %v, want ErrUnauthorized", name, err)
		}
	}

	if err := s.RevokeToken("genomics", tok.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.Verify(secret)
	wantErr(t, err, ErrUnauthorized, "revoked token")
	if _, err := s.Verify(other); err != nil {
		t.Fatalf("revoking one token broke another: %v", err)
	}
}

func TestVerifyRecordsLastUse(t *testing.T) {
	s := openStore(t, t.TempDir())
	secret, tok, err := s.CreateToken("genomics", RoleViewer, "ci")
	if err != nil {
		t.Fatal(err)
	}
	if !tok.LastUsed.IsZero() {
		t.Fatalf("a new token was already used at %v", tok.LastUsed)
	}
	if _, err := s.Verify(secret); err != nil {
		t.Fatal(err)
	}
	toks, err := s.Tokens("genomics")
	if err != nil {
		t.Fatal(err)
	}
	if len(toks) != 1 || toks[0].LastUsed.IsZero() {
		t.Fatalf("LastUsed not recorded: %+v", toks)
	}
}

func TestTokensAreListedPerTeamWithoutSecrets(t *testing.T) {
	s := openStore(t, t.TempDir())
	secretA, tokA, _ := s.CreateToken("a", RoleAdmin, "one")
	_, _, _ = s.CreateToken("b", RoleAdmin, "two")
	toks, err := s.Tokens("a")
	if err != nil {
		t.Fatal(err)
	}
	if len(toks) != 1 || toks[0].ID != tokA.ID || toks[0].Name != "one" {
		t.Fatalf("team a's tokens: %+v", toks)
	}
	js, _ := json.Marshal(toks)
	sum := sha256.Sum256([]byte(secretA))
	for _, leak := range []string{secretA, secretA[6:], base64.StdEncoding.EncodeToString(sum[:]), "hash"} {
		if strings.Contains(string(js), leak) {
			t.Fatalf("the listing %s holds %q", js, leak)
		}
	}
	wantErr(t, s.RevokeToken("b", tokA.ID), ErrNotFound, "team b revoking team a's token")
	if _, err := s.Verify(secretA); err != nil {
		t.Fatal("team b's failed revocation affected team a's token")
	}
	if err := s.RevokeToken("a", tokA.ID); err != nil {
		t.Fatal(err)
	}
	toks, _ = s.Tokens("a")
	if len(toks) != 1 || toks[0].Revoked.IsZero() {
		t.Fatalf("a revoked token should stay listed as revoked: %+v", toks)
	}
}

func TestCreateTokenRefusesBadInput(t *testing.T) {
	s := openStore(t, t.TempDir())
	if _, _, err := s.CreateToken("a", "root", "x"); err == nil {
		t.Error("role root was accepted")
	}
	if _, _, err := s.CreateToken("", RoleAdmin, "x"); err == nil {
		t.Error("an empty team was accepted")
	}
	if _, _, err := s.CreateToken("a\x00b", RoleAdmin, "x"); err == nil {
		t.Error("a team with a NUL byte was accepted")
	}
	// A team names a directory of the data directory.
	for _, team := range []string{"..", ".", "../x", "a/b", "/abs", `a\b`, ".hidden", "-rf", "a b", "é", strings.Repeat("a", 65)} {
		if _, _, err := s.CreateToken(team, RoleAdmin, "x"); err == nil {
			t.Errorf("team %q was accepted", team)
		}
	}
	for _, team := range []string{"genomics", "lab-2", "Imaging_core", "a.b", strings.Repeat("a", 64)} {
		if _, _, err := s.CreateToken(team, RoleAdmin, "x"); err != nil {
			t.Errorf("team %q: %v", team, err)
		}
	}
}

func TestRoles(t *testing.T) {
	want := map[Role][]Action{
		RoleViewer:   {ActionRead},
		RoleOperator: {ActionRead, ActionSubmit, ActionCancel},
		RoleAdmin:    {ActionRead, ActionSubmit, ActionCancel, ActionAdmin},
		"":           {},
		"root":       {},
	}
	all := []Action{ActionRead, ActionSubmit, ActionCancel, ActionAdmin, "delete-everything"}
	for role, allowed := range want {
		for _, a := range all {
			can := false
			for _, ok := range allowed {
				can = can || ok == a
			}
			if Can(role, a) != can {
				t.Errorf("Can(%q, %q) = %v, want %v", role, a, !can, can)
			}
		}
	}
}
