package pkgdoc

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// repoRoot finds the directory holding go.mod, walking up from the test's
// working directory (the package directory under go test).
func repoRoot(t *testing.T) string {
	t.Helper()
	if os.Getenv("TEST_SRCDIR") != "" {
		// Bazel runs tests in a runfiles tree that holds only this package's
		// declared inputs, not the source tree: this check belongs to go test.
		t.Skip("runs under go test, which sees the whole source tree")
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("go.mod not found above the working directory (not a source tree)")
		}
		dir = parent
	}
}

// docComments returns, per Go package directory under root, the files that
// carry a package doc comment, and the number of non-test Go files.
func docComments(t *testing.T, root string) (docs map[string][]string, files map[string]int) {
	t.Helper()
	docs = map[string][]string{}
	files = map[string]int{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "bazel-") ||
				name == "testdata" || name == "third_party") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			return err
		}
		dir, _ := filepath.Rel(root, filepath.Dir(path))
		files[dir]++
		if f.Doc != nil && strings.TrimSpace(f.Doc.Text()) != "" {
			docs[dir] = append(docs[dir], name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return docs, files
}

func TestEveryPackageHasOneDocComment(t *testing.T) {
	root := repoRoot(t)
	docs, files := docComments(t, root)
	if len(files) < 2 {
		t.Fatalf("found only %d Go package(s) under %s: the walk is broken", len(files), root)
	}
	for dir := range files {
		switch n := len(docs[dir]); {
		case n == 0:
			t.Errorf("%s: no package doc comment (add one, in doc.go if it is long)", dir)
		case n > 1:
			t.Errorf("%s: %d package doc comments (in %v): keep exactly one", dir, n, docs[dir])
		}
	}
}
