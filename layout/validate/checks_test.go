package validate_test

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ocil-dev/ocil/layout/validate"
)

var update = flag.Bool("update", false, "rewrite the check table in docs/validate.md")

const docsFile = "../../docs/validate.md"

// TestCheckIDs compares the check identifiers the code uses with the exported table: every
// check constant is in Checks with its identifier, and every one is reported somewhere.
func TestCheckIDs(t *testing.T) {
	fset := token.NewFileSet()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	// The check constants: const checkX = "id".
	consts := map[string]string{}
	for _, f := range files {
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if !strings.HasPrefix(n.Name, "check") || i >= len(vs.Values) {
						continue
					}
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						consts[n.Name], _ = strconv.Unquote(lit.Value)
					}
				}
			}
		}
	}
	// Where they are used, outside their declarations and the table.
	used := map[string]int{}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GenDecl:
				if n.Tok == token.CONST {
					return false
				}
				for _, spec := range n.Specs {
					if vs, ok := spec.(*ast.ValueSpec); ok && slices.ContainsFunc(vs.Names, func(id *ast.Ident) bool { return id.Name == "checkTable" }) {
						return false
					}
				}
			case *ast.Ident:
				if _, ok := consts[n.Name]; ok {
					used[n.Name]++
				}
			}
			return true
		})
	}
	ids := map[string]bool{}
	for _, c := range validate.Checks {
		if ids[c.ID] {
			t.Errorf("check %s is listed twice", c.ID)
		}
		ids[c.ID] = true
		if c.Description == "" || (c.Severity != validate.SeverityError && c.Severity != validate.SeverityWarning && c.Severity != validate.SeverityNote) {
			t.Errorf("check %s: severity %q, description %q", c.ID, c.Severity, c.Description)
		}
	}
	if len(consts) == 0 {
		t.Fatal("no check constants found")
	}
	for name, id := range consts {
		if !ids[id] {
			t.Errorf("constant %s = %q is not in Checks", name, id)
		}
		if used[name] == 0 {
			t.Errorf("check %s (%s) is never reported", id, name)
		}
		delete(ids, id)
	}
	for id := range ids {
		t.Errorf("Checks lists %s, which no constant defines", id)
	}
}

// TestChecksDocumented compares the check table in docs/validate.md with Checks;
// -update rewrites it.
func TestChecksDocumented(t *testing.T) {
	const begin, end = "<!-- checks:begin -->\n", "<!-- checks:end -->"
	doc, err := os.ReadFile(docsFile)
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	i, j := strings.Index(text, begin), strings.Index(text, end)
	if i < 0 || j < i {
		t.Fatalf("%s has no %q ... %q section", docsFile, strings.TrimSpace(begin), end)
	}
	want := checkTableMarkdown()
	if got := text[i+len(begin) : j]; got != want {
		if *update {
			text = text[:i+len(begin)] + want + text[j:]
			if err := os.WriteFile(docsFile, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("the check table in %s is out of date (go test ./layout/validate -run TestChecksDocumented -update)\n--- got:\n%s\n--- want:\n%s", docsFile, got, want)
	}
}

var markdownEscaper = strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;")

func checkTableMarkdown() string {
	inDefault := map[string]bool{}
	for _, c := range validate.ChecksFor(validate.Options{}) {
		inDefault[c.ID] = true
	}
	inPush := map[string]bool{}
	for _, c := range validate.ChecksFor(validate.Options{ForPush: true}) {
		inPush[c.ID] = true
	}
	var b strings.Builder
	b.WriteString("| check | severity | runs | what it checks |\n| --- | --- | --- | --- |\n")
	for _, c := range validate.Checks {
		runs := "always"
		switch {
		case inPush[c.ID] && !inDefault[c.ID]:
			runs = "with `--for-push`"
		case !inPush[c.ID] && inDefault[c.ID]:
			runs = "without `--for-push`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", c.ID, c.Severity, runs, markdownEscaper.Replace(c.Description))
	}
	return b.String()
}
