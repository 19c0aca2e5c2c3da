package cloudsim_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEveryPackageSaysWhatItOwns fails for a package of the cloud simulator (or the
// box's cloud client and the bench) without a package doc comment.
func TestEveryPackageSaysWhatItOwns(t *testing.T) {
	roots := []string{".", "../box/cloud", "../bench/cloud", "../cmd/cloudsim"}
	for _, root := range roots {
		err := filepath.WalkDir(root, func(dir string, d os.DirEntry, err error) error {
			if err != nil || !d.IsDir() || strings.Contains(dir, "testdata") {
				return err
			}
			files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
			documented, any := false, false
			for _, f := range files {
				if strings.HasSuffix(f, "_test.go") {
					continue
				}
				any = true
				pf, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.PackageClauseOnly|parser.ParseComments)
				if err != nil {
					return err
				}
				documented = documented || pf.Doc != nil
			}
			if any && !documented {
				t.Errorf("package %s has no package doc comment", dir)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
