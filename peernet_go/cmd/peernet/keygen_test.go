package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/network/zmq"
)

func TestKeygen(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "edge")
	var out, errb bytes.Buffer
	if code := runMain([]string{"keygen", base}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	keys, err := network.ReadKeyFile(base+".key", true)
	if err != nil || len(keys) != 1 {
		t.Fatalf("secret file: %v, %v", keys, err)
	}
	pub, err := zmq.PublicKey(keys[0].Text)
	if err != nil || !strings.Contains(out.String(), pub) {
		t.Errorf("output %q does not name public key %q (%v)", out.String(), pub, err)
	}
	if st, err := os.Stat(base + ".pub"); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("public file: %v, %v", st, err)
	}
	errb.Reset()
	if code := runMain([]string{"keygen", base}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "give --force to replace it") {
		t.Errorf("second keygen: exit %d, %q", code, errb.String())
	}
	if code := runMain([]string{"keygen", "--force", base}, &out, &errb); code != 0 {
		t.Errorf("keygen --force: exit %d", code)
	}
	psk := filepath.Join(dir, "udp.key")
	if code := runMain([]string{"keygen", "--psk", psk}, &out, &errb); code != 0 {
		t.Fatalf("keygen --psk: exit %d: %s", code, errb.String())
	}
	if k, err := network.ReadKeyFile(psk, true); err != nil || len(k) != 1 || len(k[0].Text) != 64 {
		t.Errorf("psk file: %v, %v", k, err)
	}
	if code := runMain([]string{"keygen"}, &out, &errb); code != 2 {
		t.Errorf("keygen without NAME: exit %d", code)
	}
}
