package layout

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// referenceCheckJSON is the token walk checkJSON was before its byte scanner: the
// scanner must accept and refuse exactly what it does.
func referenceCheckJSON(b []byte) error {
	if !utf8.Valid(b) {
		return errors.New("not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var stack []*jsonFrame
	// valueDone marks the enclosing object ready for its next member name.
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].wantKey = true
		}
	}
	nextFreeForm := false
	values := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if len(stack) == 0 {
			values++
			if values > 1 {
				return errors.New("data after the top-level value")
			}
		}
		if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].wantKey {
			top := stack[n-1]
			if key, ok := tok.(string); ok {
				if _, dup := top.keys[key]; dup {
					return fmt.Errorf("duplicate member %q", key)
				}
				top.keys[key] = struct{}{}
				if !top.freeForm {
					for _, f := range knownFields {
						if key != f && strings.EqualFold(key, f) {
							return fmt.Errorf("member %q is not %q (member names are case-sensitive)", key, f)
						}
					}
				}
				top.wantKey = false
				nextFreeForm = !top.freeForm && key == "annotations"
				continue
			}
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if len(stack) >= maxJSONDepth {
					return fmt.Errorf("nested deeper than %d levels", maxJSONDepth)
				}
				stack = append(stack, &jsonFrame{object: t == '{', freeForm: t == '{' && nextFreeForm,
					wantKey: t == '{', keys: map[string]struct{}{}})
			case '}', ']':
				stack = stack[:len(stack)-1]
				valueDone()
			}
		default:
			valueDone()
		}
		nextFreeForm = false
	}
	return nil
}

type jsonFrame struct {
	object   bool
	freeForm bool // an annotations map: any member name is allowed
	wantKey  bool
	keys     map[string]struct{}
}

// referenceVerdict is what the token walk and the json.Unmarshal after it accepted
// together (the walk alone lets an empty document through).
func referenceVerdict(b []byte) error {
	if err := referenceCheckJSON(b); err != nil {
		return err
	}
	if !json.Valid(b) {
		return errors.New("not JSON")
	}
	return nil
}

// jsonCases are documents at the edges of the grammar and of the member-name rules.
var jsonCases = []string{
	``, ` `, `{}`, `[]`, `{"a":1}`, `{"a":1,"a":2}`, `{"a":1,"\u0061":2}`, `{"a\/b":1,"a/b":2}`,
	`{"Manifests":[]}`, `{"annotations":{"Manifests":"x","manifests":"y"}}`, `{"annotations":{"a":1,"a":2}}`,
	`{"annotations":[{"Digest":"x"}]}`, `{"x":{"annotations":{"SIZE":1}}}`, `{"size":1,"SIZE":2}`,
	`{"a":1}{}`, `{"a":1} `, `{"a":1}x`, `{"a":}`, `{"a" 1}`, `{,}`, `{"a":1,}`, `[1,]`, `[,1]`,
	`"\u12"`, `"\x"`, `"a` + "\x01" + `"`, `"\ud800"`, `-`, `-0`, `01`, `1.`, `1.5e`, `1e+5`, `-1.5E-3`,
	`tru`, `true`, `nul`, `nulll`, `[true false]`, `{"a":[{"b":{"c":null}}]}`,
	strings.Repeat("[", 64) + strings.Repeat("]", 64), strings.Repeat("[", 65) + strings.Repeat("]", 65),
	`{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":10,"k11":11,"k12":12,"k13":13,"k14":14,"k15":15,"k16":16,"k17":17,"k3":3}`,
	"\xff", `{"schemaVersion":2,"manifests":[]}`, ` {"schemaVersion" : 2 , "manifests" : [ ] } `,
}

// TestCheckJSONAgreesWithReference: the scanner and the token walk agree on every case.
func TestCheckJSONAgreesWithReference(t *testing.T) {
	for _, c := range jsonCases {
		got, want := checkJSON([]byte(c)), referenceVerdict([]byte(c))
		if (got == nil) != (want == nil) {
			t.Errorf("checkJSON(%q) = %v, the token walk says %v", c, got, want)
		}
	}
}

// FuzzCheckJSON: the scanner accepts exactly what the token walk accepts, and only valid
// JSON.
func FuzzCheckJSON(f *testing.F) {
	for _, c := range jsonCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, want := checkJSON(b), referenceVerdict(b)
		if (got == nil) != (want == nil) {
			t.Fatalf("checkJSON(%q) = %v, the token walk says %v", b, got, want)
		}
		if got == nil && !json.Valid(b) {
			t.Fatalf("accepted invalid JSON %q", b)
		}
	})
}

// indexCases are index documents for the fast decoder: every field it knows, and the
// shapes it leaves to json.Unmarshal.
var indexCases = []string{
	`{"schemaVersion":2,"manifests":[]}`,
	`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","artifactType":"a/b","manifests":[{"mediaType":"m","digest":"sha256:` + strings.Repeat("a", 64) + `","size":12,"urls":["u1","u2"],"annotations":{"k":"v","\u00e9":"\n"},"data":"aGVsbG8=","platform":{"architecture":"arm64","os":"linux","os.version":"1","os.features":["f"],"variant":"v8","features":["x"]},"artifactType":"t","extra":{"a":[1,2,{"b":null}]}}],"subject":{"mediaType":"m","digest":"sha256:` + strings.Repeat("b", 64) + `","size":1},"annotations":{}}`,
	`{"schemaVersion":2,"manifests":null}`, `{"schemaVersion":2.0,"manifests":[]}`, `{"schemaVersion":2,"manifests":[{"size":1e3}]}`,
	`{"schemaVersion":2,"manifests":[{"size":"1"}]}`, `{"schemaVersion":2,"manifests":[{"annotations":null}]}`,
	`{"schemaVersion":2,"manifests":[{"data":"!!"}]}`, `{"schemaVersion":2,"manifests":[{"data":""}]}`, `{"schemaVersion":2,"manifests":[{"urls":[]}]}`,
	`{"schemaVersion":2,"manifests":[{"size":99999999999999999999}]}`, `{"schemaVersion":2,"manifests":[{"size":-0}]}`,
	` { "schemaVersion" : 2 , "manifests" : [ { "digest" : "x\"y" } ] } `, `[]`, `{"schemaVersion":"2"}`,
}

// TestFastIndexAgreesWithUnmarshal and FuzzFastIndex: where the fast decoder decodes a
// document, json.Unmarshal gives the same value.
func TestFastIndexAgreesWithUnmarshal(t *testing.T) {
	for _, c := range indexCases {
		checkFastIndex(t, []byte(c))
	}
	if _, ok := decodeIndexFast([]byte(indexCases[1])); !ok {
		t.Error("the fast decoder left the full index to json.Unmarshal")
	}
}

func FuzzFastIndex(f *testing.F) {
	for _, c := range indexCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkFastIndex(t, b) })
}

func checkFastIndex(t *testing.T, b []byte) {
	t.Helper()
	if _, err := scanDocument(b); err != nil {
		return // DecodeIndex never gets this far
	}
	got, ok := decodeIndexFast(b)
	if !ok {
		return
	}
	var want ocispec.Index
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatalf("%s: decoded fast, json.Unmarshal says %v", b, err)
	}
	if !reflect.DeepEqual(*got, want) {
		t.Fatalf("%s:\nfast      %#v\nUnmarshal %#v", b, *got, want)
	}
}

// manifestCases are manifest documents for the fast decoder, as indexCases are for
// indexes.
var manifestCases = []string{
	`{"schemaVersion":2,"config":{"mediaType":"c","digest":"sha256:` + strings.Repeat("c", 64) + `","size":2},"layers":[]}`,
	`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"a/b","config":{"mediaType":"c","digest":"sha256:` + strings.Repeat("c", 64) + `","size":2,"data":"e30="},"layers":[{"mediaType":"l","digest":"sha256:` + strings.Repeat("a", 64) + `","size":12,"urls":["u1"],"annotations":{"k":"v","\u00e9":"\n"},"platform":{"architecture":"arm64","os":"linux"},"artifactType":"t","extra":[1,{"b":null}]}],"subject":{"mediaType":"m","digest":"sha256:` + strings.Repeat("b", 64) + `","size":1},"annotations":{"bench.n":"1"},"other":true}`,
	`{"schemaVersion":2,"config":null,"layers":null}`, `{"schemaVersion":2,"config":{"size":1.5}}`, `{"schemaVersion":2,"layers":[{"size":"1"}]}`,
	`{"schemaVersion":2,"subject":null}`, `{"schemaVersion":2,"annotations":{"a":1}}`, `{"schemaVersion":2,"config":{"data":"%%"}}`,
	` { "schemaVersion" : 2 , "config" : { "digest" : "x\"y" } , "layers" : [ ] } `, `{"schemaVersion":2,"mediaType":"a\/b"}`, `[]`, `{}`,
}

// TestFastManifestAgreesWithUnmarshal and FuzzFastManifest: where the fast decoder
// decodes a manifest, json.Unmarshal gives the same value.
func TestFastManifestAgreesWithUnmarshal(t *testing.T) {
	for _, c := range manifestCases {
		checkFastManifest(t, []byte(c))
	}
	for _, c := range manifestCases[:2] {
		if _, ok := decodeManifestFast([]byte(c)); !ok {
			t.Errorf("the fast decoder left %s to json.Unmarshal", c)
		}
	}
}

func FuzzFastManifest(f *testing.F) {
	for _, c := range append(manifestCases, indexCases...) {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkFastManifest(t, b) })
}

func checkFastManifest(t *testing.T, b []byte) {
	t.Helper()
	if _, err := scanDocument(b); err != nil {
		return // DecodeManifest never gets this far
	}
	got, ok := decodeManifestFast(b)
	if !ok {
		return
	}
	var want ocispec.Manifest
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatalf("%s: decoded fast, json.Unmarshal says %v", b, err)
	}
	if !reflect.DeepEqual(*got, want) {
		t.Fatalf("%s:\nfast      %#v\nUnmarshal %#v", b, *got, want)
	}
}
