package main

// A minimal .vmx reader/writer: `key = "value"` lines, order and unknown keys kept.
// The simulator stores identity in the vmx the way ESXi does:
//
//	displayName   = "vcsa"
//	uuid.bios     = "42 1a …"      (SMBIOS uuid, config.uuid)
//	vc.uuid       = "50 2b …"      (instance uuid, config.instanceUuid)
//	uuid.location = "56 4d …"      (where the VM was last run; see sharedvm.go for what "where" means)

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io/ioutil"
	"os"
	"strings"

	"github.com/google/uuid"
)

type vmxFile struct {
	keys   []string          // as first written, in order
	values map[string]string // by lower-case key (vmx keys are case-insensitive)
}

func readVmx(path string) (*vmxFile, error) {
	v := &vmxFile{values: map[string]string{}}
	data, err := ioutil.ReadFile(path)
	if err != nil {
		return v, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ".encoding") && !strings.Contains(line, "=") {
			continue
		}
		i := strings.Index(line, "=")
		if i < 0 {
			continue
		}
		key := strings.TrimSpace(line[:i])
		val := strings.Trim(strings.TrimSpace(line[i+1:]), `"`)
		v.set(key, val)
	}
	return v, nil
}

func (v *vmxFile) get(key string) string { return v.values[strings.ToLower(key)] }

func (v *vmxFile) set(key, val string) {
	lower := strings.ToLower(key)
	if _, ok := v.values[lower]; !ok {
		v.keys = append(v.keys, key)
	}
	v.values[lower] = val
}

// write replaces the file atomically (readers on other "hosts" never see half a file).
func (v *vmxFile) write(path string) error {
	var b strings.Builder
	b.WriteString(".encoding = \"UTF-8\"\n")
	for _, k := range v.keys {
		if strings.EqualFold(k, ".encoding") {
			continue
		}
		fmt.Fprintf(&b, "%s = %q\n", k, v.values[strings.ToLower(k)])
	}
	tmp := fmt.Sprintf("%s.tmp.%d", path, os.Getpid())
	if err := ioutil.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// vmxUUID formats a uuid the way vmx files do: "42 1a 2b 3c 4d 5e 6f 70-81 92 a3 b4 c5 d6 e7 f8".
func vmxUUID(id string) string {
	u, err := uuid.Parse(id)
	if err != nil {
		return id
	}
	h := make([]string, 16)
	for i, b := range u {
		h[i] = fmt.Sprintf("%02x", b)
	}
	return strings.Join(h[:8], " ") + "-" + strings.Join(h[8:], " ")
}

// parseVmxUUID reverses vmxUUID; "" if the text is no uuid.
func parseVmxUUID(s string) string {
	x := strings.NewReplacer(" ", "", "-", "").Replace(s)
	raw, err := hex.DecodeString(x)
	if err != nil || len(raw) != 16 {
		return ""
	}
	u, _ := uuid.FromBytes(raw)
	return u.String()
}

// locationOf hashes "where the VM runs" into a uuid.location value.
func locationOf(where string) string {
	sum := sha1.Sum([]byte(where))
	u, _ := uuid.FromBytes(sum[:16])
	return vmxUUID(u.String())
}
