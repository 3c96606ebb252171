package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/urfave/cli/v2"

	"github.com/ocil-dev/ocil/internal/capped"
	"github.com/ocil-dev/ocil/layout"
)

// Keys of an annotation file that name no file, as oras defines them.
const (
	annotationsOfManifest = "$manifest"
	annotationsOfConfig   = "$config"
)

func annotationFileFlag(usage string) *cli.StringFlag {
	return &cli.StringFlag{Name: "annotation-file", Usage: usage}
}

// annotationFile is an annotation file in oras's format: a JSON object whose members are
// "$manifest", "$config" or a file's name, each an object of string annotations.
type annotationFile struct {
	path string
	keys []string // in file order
	sets map[string]map[string]string
}

// readAnnotationFile reads and checks an annotation file. Beyond encoding/json, it
// refuses invalid UTF-8, duplicate keys at either level, values that are not strings,
// empty annotation keys and data after the object. Every error names the file, and the
// key when there is one.
func readAnnotationFile(path string) (*annotationFile, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("--annotation-file: %w", err)
	}
	if fi.IsDir() {
		return nil, usagef("--annotation-file %s: a folder, not a file", path)
	}
	b, err := capped.ReadFile(os.DirFS(filepath.Dir(path)), filepath.Base(path), layout.MaxJSONSize)
	if err != nil {
		return nil, fmt.Errorf("--annotation-file %s: %w", path, err)
	}
	af := &annotationFile{path: path, sets: map[string]map[string]string{}}
	if err := af.decode(b); err != nil {
		return nil, usagef("--annotation-file %s: %v", path, err)
	}
	return af, nil
}

var errNotObject = errors.New(`want a JSON object such as {"$manifest": {"KEY": "VALUE"}}`)

func (af *annotationFile) decode(b []byte) error {
	if !utf8.Valid(b) {
		return errors.New("not valid UTF-8")
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if tok, err := nextToken(dec); err != nil || tok != json.Delim('{') {
		return errNotObject
	}
	for dec.More() {
		tok, err := nextToken(dec)
		if err != nil {
			return err
		}
		key := tok.(string) // a member name: the decoder returns nothing else here
		if _, dup := af.sets[key]; dup {
			return fmt.Errorf("%q is given twice", key)
		}
		set, err := decodeAnnotationSet(dec)
		if err != nil {
			return fmt.Errorf("%q: %v", key, err)
		}
		af.keys = append(af.keys, key)
		af.sets[key] = set
	}
	if _, err := nextToken(dec); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON object")
	}
	return nil
}

func decodeAnnotationSet(dec *json.Decoder) (map[string]string, error) {
	if tok, err := nextToken(dec); err != nil || tok != json.Delim('{') {
		if err != nil {
			return nil, err
		}
		return nil, errors.New(`want an object of annotations, {"KEY": "VALUE"}`)
	}
	set := map[string]string{}
	for dec.More() {
		tok, err := nextToken(dec)
		if err != nil {
			return nil, err
		}
		k := tok.(string)
		if k == "" {
			return nil, errors.New("an empty annotation key")
		}
		if _, dup := set[k]; dup {
			return nil, fmt.Errorf("annotation %q is given twice", k)
		}
		tok, err = nextToken(dec)
		if err != nil {
			return nil, err
		}
		v, ok := tok.(string)
		if !ok {
			what := fmt.Sprint(tok)
			switch tok.(type) {
			case nil:
				what = "null"
			case json.Delim:
				what = "an " + map[bool]string{true: "object", false: "array"}[tok == json.Delim('{')]
			}
			return nil, fmt.Errorf("annotation %q: want a string, not %s", k, what)
		}
		set[k] = v
	}
	_, err := nextToken(dec)
	return set, err
}

// withFlags adds the annotations of a flag (--annotation) to those of the file under
// key: a key in both is an error naming the file, for neither may silently win.
func (af *annotationFile) withFlags(key, flag string, fromFlags map[string]string) (map[string]string, error) {
	set := af.sets[key]
	if len(fromFlags) == 0 {
		return set, nil
	}
	out := map[string]string{}
	for k, v := range set {
		out[k] = v
	}
	for _, k := range sortedKeys(fromFlags) {
		if _, dup := out[k]; dup {
			return nil, usagef("annotation %q is given both by %s and under %q in --annotation-file %s", k, flag, key, af.path)
		}
		out[k] = fromFlags[k]
	}
	return out, nil
}

// unknown returns an error naming the first key of the file that is not in known.
func (af *annotationFile) unknown(known func(key string) bool, hint string) error {
	for _, k := range af.keys {
		if !known(k) {
			return usagef("--annotation-file %s: %q %s", af.path, k, hint)
		}
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// nextToken is dec.Token, with the end of the data inside the object reported as such.
func nextToken(dec *json.Decoder) (json.Token, error) {
	tok, err := dec.Token()
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, errors.New("the file ends inside the JSON object")
	}
	return tok, err
}
