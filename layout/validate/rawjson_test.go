package validate

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// rawCases are documents and values at the edges of what the raw splitters mirror.
var rawCases = []string{
	`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:` + strings.Repeat("a", 64) + `","size":12,"annotations":{"org.opencontainers.image.ref.name":"v1","é":"ü"},"platform":{"architecture":"amd64","os":"linux","variant":"v8","os.version":"1"}}]}`,
	` { "schemaVersion" : 2 , "config" : { "mediaType" : "a/b" , "size" : -0 , "digest" : "x" } , "layers" : [ { "size" : 1 } , null , [ ] ] , "annotations" : { } } `,
	`{"schemaVersion":2,"schemaVersion":3}`, `{"SchemaVersion":2}`, `{"mediatype":"x"}`, `{"media\u0054ype":"x"}`, `{"ſize":1}`, `{"\u00e9":1}`,
	`{"size":1e3}`, `{"size":1.0}`, `{"size":99999999999999999999}`, `{"size":"1"}`, `{"size":null}`, `{"size":-1}`,
	`{"mediaType":"a\"b"}`, `{"mediaType":"a\/b"}`, `{"mediaType":"\u00e9"}`, `{"mediaType":"` + "\xff" + `"}`, `{"mediaType":null}`, `{"mediaType":1}`,
	`{"annotations":{"a":"1","a":"2"}}`, `{"annotations":{"a":1}}`, `{"annotations":{"a":null}}`, `{"annotations":null}`, `{"annotations":[]}`,
	`{"platform":{"os":"linux","OS":"x"}}`, `{"platform":{"os":"linux","os.features":["a"]}}`, `{"platform":{"os":null,"architecture":"arm"}}`, `{"platform":{"features":["x"],"os":"a"}}`,
	`{"manifests":[]}`, `{"manifests":[1,"a",{"b":[{}]},true,null]}`, `{"manifests":{}}`, `{"manifests":"x"}`,
	`[]`, `null`, `1`, `"s"`, `{}`, `{"a":{"b":"}"},"c":"]"}`, `{"a":"\\"}`, `{"a":1}x`, `{"a":1,}`, `{"a"}`, ``,
}

// TestRawMembersAgree and FuzzRawMembers: wherever the raw splitters decode a value,
// json.Unmarshal gives the same; where they do not, they fall back to it.
func TestRawMembersAgree(t *testing.T) {
	for _, c := range rawCases {
		checkRawMembers(t, []byte(c))
	}
	// The shapes real layouts have are decoded without json.Unmarshal.
	var v [8]json.RawMessage
	if !splitMembers([]byte(rawCases[0]), documentNames, v[:]) {
		t.Error("an index.json was left to json.Unmarshal")
	}
	raws, ok := splitArray(v[3])
	if !ok || len(raws) != 1 {
		t.Fatal("its manifests were left to json.Unmarshal")
	}
	var d [8]json.RawMessage
	if !splitMembers(raws[0], descriptorNames, d[:]) {
		t.Fatal("a descriptor was left to json.Unmarshal")
	}
	if _, ok := stringMap(d[5]); !ok {
		t.Error("annotations were left to json.Unmarshal")
	}
}

func FuzzRawMembers(f *testing.F) {
	for _, c := range rawCases {
		f.Add([]byte(c))
	}
	f.Fuzz(checkRawMembers)
}

func checkRawMembers(t *testing.T, b []byte) {
	same := func(what string, got, want any, gotErr, wantErr error) {
		t.Helper()
		if (gotErr == nil) != (wantErr == nil) || (wantErr == nil && !reflect.DeepEqual(got, want)) {
			t.Fatalf("%s of %q:\nfast      %#v, %v\nUnmarshal %#v, %v", what, b, got, gotErr, want, wantErr)
		}
	}
	var doc, wantDoc rawDocument
	same("document", doc, wantDoc, unmarshalDocument(b, &doc), json.Unmarshal(b, &wantDoc))
	if !json.Valid(b) {
		return // the other splitters are only given values of a document that is
	}
	var desc, wantDesc rawDescriptor
	same("descriptor", desc, wantDesc, unmarshalDescriptor(b, &desc), json.Unmarshal(b, &wantDesc))
	arr, err := unmarshalArray(b)
	var wantArr []json.RawMessage
	same("array", arr, wantArr, err, json.Unmarshal(b, &wantArr))
	m, err := (&interner{}).unmarshalStringMap(b)
	var wantMap map[string]string
	wantErr := json.Unmarshal(b, &wantMap)
	if !reflect.DeepEqual(m, wantMap) {
		t.Fatalf("string map of %q: %#v, json.Unmarshal %#v", b, m, wantMap)
	}
	same("string map", m, wantMap, err, wantErr)
	p, err := (&interner{}).unmarshalPlatform(b)
	var wantP ocispec.Platform
	same("platform", p, wantP, err, json.Unmarshal(b, &wantP))
	var n, wantN int64
	if jsonInt(b, &n) {
		if isNull(b) || json.Unmarshal(b, &wantN) != nil || n != wantN {
			t.Fatalf("int of %q: %d, json.Unmarshal %d", b, n, wantN)
		}
	}
	if s, ok := plainString(b); ok {
		var want string
		if err := json.Unmarshal(b, &want); err != nil || s != want {
			t.Fatalf("string %q: %q, json.Unmarshal %q (%v)", b, s, want, err)
		}
	}
	if s := string(b); isMediaType(s) != mediaTypeGrammar.MatchString(s) {
		t.Fatalf("isMediaType(%q) = %v, the grammar says %v", s, isMediaType(s), !isMediaType(s))
	}
}

// TestIsMediaType: the hand-written matcher agrees with the grammar's regular expression.
func TestIsMediaType(t *testing.T) {
	for _, s := range []string{"application/vnd.oci.image.manifest.v1+json", "a/b", "/b", "a/", "a", "a/b/c", "-a/b", "a/-b", "a-/b-",
		"A0!#$&^_.+-/Z9!#$&^_.+-", "a b/c", "a/b;x=1", "é/b", strings.Repeat("a", 127) + "/b", strings.Repeat("a", 128) + "/b",
		"a/" + strings.Repeat("b", 127), "a/" + strings.Repeat("b", 128), "", "a/b\n"} {
		if got, want := isMediaType(s), mediaTypeGrammar.MatchString(s); got != want {
			t.Errorf("isMediaType(%q) = %v, the grammar says %v", s, got, want)
		}
	}
}
