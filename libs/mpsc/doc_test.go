package mpsc

import (
	"go/parser"
	"go/token"
	"os"
	"strings"
	"testing"
)

// TestPackageDoc checks that the package has exactly one package comment, in
// doc.go.
func TestPackageDoc(t *testing.T) {
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	sawDoc := false
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		hasDoc := f.Doc != nil
		if want := name == "doc.go"; hasDoc != want {
			t.Errorf("%s: has package comment = %v, want %v", name, hasDoc, want)
		}
		sawDoc = sawDoc || (name == "doc.go" && hasDoc)
	}
	if !sawDoc {
		t.Error("no package comment in doc.go")
	}
}
