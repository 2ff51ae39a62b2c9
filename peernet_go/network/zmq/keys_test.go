package zmq

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/peernet/peernet_go/peernet_go/network"
)

// z85Cases: the test vector of ZeroMQ RFC 32, and a CURVE key pair from
// the libzmq test suite (tests/testutil_security.cpp).
var z85Cases = []struct {
	raw  []byte
	text string
}{
	{[]byte{0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B}, "HelloWorld"},
	{nil, ""},
}

const (
	libzmqPublic = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"
	libzmqSecret = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs"
)

func TestZ85(t *testing.T) {
	for _, tc := range z85Cases {
		if got := z85Encode(tc.raw); got != tc.text {
			t.Errorf("z85Encode(%x) = %q, want %q", tc.raw, got, tc.text)
		}
		got, err := z85Decode(nil, tc.text)
		if err != nil || !bytes.Equal(got, tc.raw) {
			t.Errorf("z85Decode(%q) = %x, %v; want %x", tc.text, got, err, tc.raw)
		}
	}
	for _, bad := range []string{"Hell", "Hello Worl", "%%%%%"} {
		if _, err := z85Decode(nil, bad); err == nil {
			t.Errorf("z85Decode(%q) succeeded", bad)
		}
	}
}

func TestPublicKey(t *testing.T) {
	pub, err := PublicKey(libzmqSecret)
	if err != nil || pub != libzmqPublic {
		t.Errorf("PublicKey(libzmq's secret) = %q, %v; want %q", pub, err, libzmqPublic)
	}
	kp, err := NewKeypair()
	if err != nil {
		t.Fatal(err)
	}
	if pub, err := PublicKey(kp.Secret); err != nil || pub != kp.Public {
		t.Errorf("PublicKey of a new pair = %q, %v; want %q", pub, err, kp.Public)
	}
	if _, err := PublicKey("short"); !errors.Is(err, ErrKey) {
		t.Errorf("PublicKey(short) = %v", err)
	}
}

func TestWriteKeypair(t *testing.T) {
	dir := t.TempDir()
	kp, _ := NewKeypair()
	base := filepath.Join(dir, "edge")
	key, pub, err := WriteKeypair(base, kp, false)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{key: 0o600, pub: 0o644} {
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: mode %v, %v; want %v", path, st.Mode().Perm(), err, want)
		}
	}
	if keys, err := loadKeys("k", key, true, true); err != nil || keys[0] != kp.Secret {
		t.Errorf("secret file reads %q, %v", keys, err)
	}
	if keys, err := loadKeys("k", pub, true, false); err != nil || keys[0] != kp.Public {
		t.Errorf("public file reads %q, %v", keys, err)
	}
	other, _ := NewKeypair()
	if _, _, err := WriteKeypair(base, other, false); !errors.Is(err, network.ErrKeyExists) || !strings.Contains(err.Error(), "give --force") {
		t.Errorf("overwrite without force: %v", err)
	}
	if keys, _ := loadKeys("k", key, true, true); keys[0] != kp.Secret {
		t.Error("a refused overwrite changed the secret file")
	}
	os.Chmod(key, 0o644)
	if _, _, err := WriteKeypair(base, other, true); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(key); st.Mode().Perm() != 0o600 {
		t.Errorf("forced overwrite left mode %v", st.Mode().Perm())
	}
	if keys, _ := loadKeys("k", key, true, true); keys[0] != other.Secret {
		t.Error("forced overwrite did not replace the secret")
	}
}

// zapCases drive TestParseZAPRequest and seed FuzzParseZAPRequest.
var zapCases = []struct {
	frames []string
	err    string
}{
	{[]string{"1.0", "1", "peernet", "127.0.0.1", "", "CURVE", strings.Repeat("k", 32)}, ""},
	{[]string{"1.0", "2", "", "", "", "NULL"}, ""},
	{[]string{"1.0", "3", "d", "a", "i", "PLAIN", "user", "pw"}, ""},
	{[]string{"1.0", "1", "peernet", "a", "", "CURVE"}, "CURVE credentials are one 32-byte key"},
	{[]string{"1.0", "1", "peernet", "a", "", "CURVE", "short"}, "CURVE credentials are one 32-byte key"},
	{[]string{"2.0", "1", "d", "a", "", "NULL"}, `version "2.0", want "1.0"`},
	{[]string{"1.0", "1", "d", "a", "", "GSSAPI", "x"}, `mechanism "GSSAPI"`},
	{[]string{"1.0", "1", "d", "a", "", "NULL", "x"}, "NULL with 1 credentials"},
	{[]string{"1.0", "1", "d"}, "3 frames, want 6 to 16"},
	{[]string{"1.0", "1", "d", "a", "", "NULL", strings.Repeat("x", zapMaxFrame+1)}, "frame 7 has 1025 bytes"},
}

func zapFrames(s []string) [][]byte {
	f := make([][]byte, len(s))
	for i, x := range s {
		f[i] = []byte(x)
	}
	return f
}

func TestParseZAPRequest(t *testing.T) {
	for _, tc := range zapCases {
		r, err := parseZAPRequest(zapFrames(tc.frames))
		if tc.err != "" {
			if !errors.Is(err, ErrZAP) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.frames, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.frames, err)
			continue
		}
		if got := r.frames(); len(got) != len(tc.frames) || string(bytes.Join(got, []byte("|"))) != strings.Join(tc.frames, "|") {
			t.Errorf("%q: frames() = %q", tc.frames, got)
		}
	}
}

func TestZAPDecide(t *testing.T) {
	kp, _ := NewKeypair()
	raw, _ := ParseKey(kp.Public)
	other, _ := NewKeypair()
	rawOther, _ := ParseKey(other.Public)
	allowed := map[[KeyLen]byte]bool{raw: true}
	req := func(mech, domain string, cred ...string) *zapRequest {
		return &zapRequest{version: zapVersion, id: "1", domain: domain, mechanism: mech, credentials: cred}
	}
	for _, tc := range []struct {
		r       *zapRequest
		code    string
		user    string
		refused bool
	}{
		{req("CURVE", zapDomain, string(raw[:])), "200", kp.Public, false},
		{req("CURVE", zapDomain, string(rawOther[:])), "400", "", true},
		{req("CURVE", "other", string(raw[:])), "400", "", true},
		{req("NULL", ""), "200", "", false},
		{req("NULL", zapDomain), "400", "", true},
		{req("PLAIN", zapDomain, "u", "p"), "400", "", true},
	} {
		code, _, user, refused := zapDecide(tc.r, allowed)
		if code != tc.code || user != tc.user || refused != tc.refused {
			t.Errorf("%s %q: %s %q %v; want %s %q %v", tc.r.mechanism, tc.r.domain, code, user, refused, tc.code, tc.user, tc.refused)
		}
	}
}

// FuzzParseZAPRequest: a request that parses rebuilds, frame for frame,
// into one that parses the same; nothing kept exceeds the input.
func FuzzParseZAPRequest(f *testing.F) {
	for _, tc := range zapCases {
		f.Add(strings.Join(tc.frames, "\x00"))
	}
	f.Fuzz(func(t *testing.T, s string) {
		frames := zapFrames(strings.Split(s, "\x00"))
		r, err := parseZAPRequest(frames)
		if err != nil {
			return
		}
		again, err := parseZAPRequest(r.frames())
		if err != nil {
			t.Fatalf("rebuilt request does not parse: %v", err)
		}
		kept := len(r.id) + len(r.domain) + len(r.address) + len(r.identity) + len(r.mechanism)
		for _, c := range r.credentials {
			kept += len(c)
		}
		if kept > len(s) {
			t.Fatalf("kept %d bytes of %d", kept, len(s))
		}
		if again.id != r.id || again.domain != r.domain || again.address != r.address || again.identity != r.identity ||
			again.mechanism != r.mechanism || strings.Join(again.credentials, "\x00") != strings.Join(r.credentials, "\x00") {
			t.Fatalf("round trip %+v → %+v", r, again)
		}
		zapDecide(&r, map[[KeyLen]byte]bool{})
	})
}

// keyFileCases seed FuzzParseKeyFile.
var keyFileCases = []string{
	"# peernet CURVE public key (Z85) of cloud\n" + libzmqPublic + "\n",
	libzmqPublic + "\n" + libzmqSecret + "\n",
	"# nothing\n",
	"HelloWorld\n",
	"%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%\n",
}

// FuzzParseKeyFile: the keys read from a file are valid keys whose bytes
// re-encode to the same text, and a file of them reads back the same.
func FuzzParseKeyFile(f *testing.F) {
	for _, s := range keyFileCases {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, one bool) {
		lines, err := network.ParseKeyLines([]byte(s))
		if err != nil {
			return
		}
		keys, err := parseKeyLines(lines, one)
		if err != nil {
			return
		}
		if one && len(keys) != 1 {
			t.Fatalf("one key wanted, %d read", len(keys))
		}
		var file strings.Builder
		for _, k := range keys {
			raw, err := ParseKey(k)
			if err != nil {
				t.Fatalf("kept key %q: %v", k, err)
			}
			if z85Encode(raw[:]) != k {
				t.Fatalf("key %q re-encodes as %q", k, z85Encode(raw[:]))
			}
			file.WriteString(k + "\n")
		}
		again, err := network.ParseKeyLines([]byte(file.String()))
		if err != nil {
			t.Fatal(err)
		}
		back, err := parseKeyLines(again, one)
		if err != nil || strings.Join(back, "\n") != strings.Join(keys, "\n") {
			t.Fatalf("re-read %q, %v; want %q", back, err, keys)
		}
	})
}
