package filesource

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// candidate is a file found under the configured paths.
type candidate struct {
	path     string
	info     fs.FileInfo
	id       identity
	explicit bool // named by the configuration itself, not found in a folder
}

// isGlob reports whether a path is a filepath.Glob pattern.
func isGlob(p string) bool { return strings.ContainsAny(p, "*?[") }

// ignored reports whether a file found in a folder or by a pattern is one
// to leave alone: hidden, an editor's swap or backup file, a download or
// copy in progress.
func ignored(name string) bool {
	if strings.HasPrefix(name, ".") || strings.HasSuffix(name, "~") || strings.HasPrefix(name, "#") && strings.HasSuffix(name, "#") {
		return true
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".swp", ".swo", ".swx", ".tmp", ".temp", ".part", ".partial", ".crdownload", ".filepart":
		return true
	}
	return false
}

// isDocument reports whether a file name is that of documentation or a
// picture, which a folder of logs often holds beside them.
func isDocument(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".md", ".pdf", ".png", ".jpg", ".jpeg", ".gif", ".html", ".htm", ".docx", ".xlsx", ".pptx", ".rtf", ".zip":
		return true
	}
	return false
}

// discover lists the files under the configured paths, in path order, and
// the problems met (a missing path, an unreadable folder), keyed by path.
func discover(paths []string) ([]candidate, map[string]string) {
	found := map[string]candidate{}
	problems := map[string]string{}
	add := func(p string, info fs.FileInfo, explicit bool) {
		if _, dup := found[p]; !dup || explicit {
			found[p] = candidate{path: p, info: info, id: identityOf(info), explicit: explicit}
		}
	}
	walk := func(root string) {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				problems[path] = reasonOf(err)
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if path != root && ignored(d.Name()) {
				if d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				if !os.IsNotExist(err) { // gone between listing and stat
					problems[path] = reasonOf(err)
				}
				return nil
			}
			add(path, info, false)
			return nil
		})
		if err != nil {
			problems[root] = reasonOf(err)
		}
	}
	for _, p := range paths {
		if isGlob(p) {
			matches, err := filepath.Glob(p)
			if err != nil {
				problems[p] = reasonOf(err)
				continue
			}
			for _, m := range matches {
				if ignored(filepath.Base(m)) {
					continue
				}
				info, err := os.Stat(m)
				switch {
				case err != nil:
				case info.IsDir():
					walk(m)
				case info.Mode().IsRegular():
					add(m, info, false)
				}
			}
			continue
		}
		info, err := os.Stat(p)
		switch {
		case err != nil:
			problems[p] = reasonOf(err)
		case info.IsDir():
			walk(p)
		case info.Mode().IsRegular():
			add(p, info, true)
		default:
			problems[p] = "not a regular file or folder"
		}
	}
	out := make([]candidate, 0, len(found))
	for _, c := range found {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out, problems
}

// findIdentity looks in dir for a regular file with identity id (a file
// rotated to a name outside the watched paths) and returns its path.
func findIdentity(dir string, id identity) (string, fs.FileInfo, bool) {
	if !id.valid() {
		return "", nil, false
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", nil, false
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		if identityOf(info) == id {
			return filepath.Join(dir, e.Name()), info, true
		}
	}
	return "", nil, false
}

// reasonOf renders an error without the path a PathError repeats.
func reasonOf(err error) string {
	if pe, ok := err.(*fs.PathError); ok {
		return fmt.Sprintf("%s: %v", pe.Op, pe.Err)
	}
	return err.Error()
}
