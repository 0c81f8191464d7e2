package docs

import (
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// repoRoot is the repository as the tests see it: they run in docs/.
func repoRoot(t *testing.T) fs.FS {
	t.Helper()
	_, err := os.Stat("../go.mod")
	require.NoError(t, err, "the tests run in docs/, one level below the repository's root")
	return os.DirFS("..")
}

// TestMarkdownLinksResolve: every relative link in the repository's Markdown (README.md, docs/,
// and any other page) names a file or directory that exists, and every #anchor a heading of the
// page it points into, as GitHub renders it. External links (https://...) are not fetched.
func TestMarkdownLinksResolve(t *testing.T) {
	root := repoRoot(t)
	pages, err := markdownFiles(root)
	require.NoError(t, err)
	for _, want := range []string{"README.md", "docs/api.md", "docs/configuration.md", "docs/production.md",
		"docs/deployment.md", "docs/clients.md", "docs/architecture.md", "docs/benchmarks.md"} {
		assert.Contains(t, pages, want, "the pages the README links to are checked")
	}
	problems, err := checkLinks(root, pages)
	require.NoError(t, err)
	if len(problems) > 0 {
		t.Errorf("broken links:\n%s", strings.Join(problems, "\n"))
	}
}

// TestLinkCheckerFindsBrokenLinks keeps the check above from passing by finding nothing.
func TestLinkCheckerFindsBrokenLinks(t *testing.T) {
	fsys := fstest.MapFS{
		"README.md": {Data: []byte(strings.Join([]string{
			"# Front door",
			"[guide](docs/guide.md) [its waits](docs/guide.md#waiting) [its second Waiting](docs/guide.md#waiting-1)",
			"[code](internal/) [spec](api/openapi.yaml) [here](#front-door) [site](https://example.com/nowhere)",
			"[gone](docs/gone.md) [no heading](docs/guide.md#nowhere) [not here](#nowhere)",
			"[fenced](docs/guide.md#not-a-heading) [escapes the repository](../outside.md)",
			"`[in code](docs/also-gone.md)` ![picture](docs/picture.png)",
			"[ref]: docs/ref-gone.md",
		}, "\n"))},
		"docs/guide.md": {Data: []byte(strings.Join([]string{
			"# Guide", "## Waiting", "```sh", "# Not a heading", "```", "## Waiting", "[back](../README.md#front-door)",
		}, "\n"))},
		"api/openapi.yaml":    {Data: []byte("openapi: 3.0.3\n")},
		"internal/x/x.go":     {Data: []byte("package x\n")},
		"node_modules/x/x.md": {Data: []byte("[not ours](gone.md)\n")},
		".git/description.md": {Data: []byte("[not ours](gone.md)\n")},
	}
	pages, err := markdownFiles(fsys)
	require.NoError(t, err)
	assert.Equal(t, []string{"README.md", "docs/guide.md"}, pages)
	problems, err := checkLinks(fsys, pages)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{
		`README.md:4: docs/gone.md: no such file or directory`,
		`README.md:4: docs/guide.md#nowhere: no heading has the anchor "nowhere"`,
		`README.md:4: #nowhere: no heading has the anchor "nowhere"`,
		`README.md:5: docs/guide.md#not-a-heading: no heading has the anchor "not-a-heading"`,
		`README.md:5: ../outside.md: leaves the repository`,
		`README.md:6: docs/picture.png: no such file or directory`,
		`README.md:7: docs/ref-gone.md: no such file or directory`,
	}, problems)
}

func TestGitHubAnchors(t *testing.T) {
	for _, tc := range []struct{ heading, anchor string }{
		{"The two commands", "the-two-commands"},
		{"Start options (`POST /workflows`)", "start-options-post-workflows"},
		{"The API reference page (`/docs`)", "the-api-reference-page-docs"},
		{"Connecting to Temporal: local, TLS, Temporal Cloud", "connecting-to-temporal-local-tls-temporal-cloud"},
		{"Browsers, limits and timeouts", "browsers-limits-and-timeouts"},
		{"The 201 body, and `Prefer: return=minimal`", "the-201-body-and-prefer-returnminimal"},
		{"HTTP/1.1 and HTTP/2", "http11-and-http2"},
		{"**Bold** and [a link](x.md) and `GATEWAY_MAX_WAIT`", "bold-and-a-link-and-gateway_max_wait"},
		{"Idempotency-Keys: one record each", "idempotency-keys-one-record-each"},
		{"Ünïcode stays", "ünïcode-stays"},
		{"Two  spaces", "two--spaces"},
		{"Closing hashes ##", "closing-hashes"},
	} {
		t.Run(tc.heading, func(t *testing.T) {
			text, ok := atxHeading("## " + tc.heading)
			require.True(t, ok)
			assert.Equal(t, tc.anchor, anchorOf(text))
		})
	}
}

// markdownFiles lists the Markdown files of fsys, leaving out dependencies and hidden directories.
func markdownFiles(fsys fs.FS) ([]string, error) {
	var pages []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != "." && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) {
			return fs.SkipDir
		}
		if !d.IsDir() && strings.EqualFold(path.Ext(p), ".md") {
			pages = append(pages, p)
		}
		return nil
	})
	slices.Sort(pages)
	return pages, err
}

// checkLinks returns one line per link of pages that does not resolve in fsys.
func checkLinks(fsys fs.FS, pages []string) ([]string, error) {
	anchors := map[string]map[string]bool{} // by page, read once each
	anchorsOf := func(page string) (map[string]bool, error) {
		if a, ok := anchors[page]; ok {
			return a, nil
		}
		data, err := fs.ReadFile(fsys, page)
		if err != nil {
			return nil, err
		}
		anchors[page] = headingAnchors(string(data))
		return anchors[page], nil
	}

	var problems []string
	for _, page := range pages {
		data, err := fs.ReadFile(fsys, page)
		if err != nil {
			return nil, err
		}
		for _, l := range links(string(data)) {
			report := func(format string, args ...any) {
				problems = append(problems, fmt.Sprintf("%s:%d: %s: ", page, l.line, l.target)+fmt.Sprintf(format, args...))
			}
			if external(l.target) {
				continue
			}
			target, fragment, _ := strings.Cut(l.target, "#")
			target, _, _ = strings.Cut(target, "?")
			target, err := url.PathUnescape(target)
			if err != nil {
				report("not a valid path")
				continue
			}
			file := page
			if target != "" {
				if strings.HasPrefix(target, "/") {
					file = path.Clean(strings.TrimPrefix(target, "/"))
				} else {
					file = path.Join(path.Dir(page), target)
				}
				if file == ".." || strings.HasPrefix(file, "../") {
					report("leaves the repository")
					continue
				}
				if _, err := fs.Stat(fsys, file); err != nil {
					report("no such file or directory")
					continue
				}
			}
			if fragment == "" || !strings.EqualFold(path.Ext(file), ".md") {
				continue // GitHub's line anchors of other files are not checked
			}
			a, err := anchorsOf(file)
			if err != nil {
				report("cannot read its anchors: %v", err)
				continue
			}
			if !a[fragment] {
				report("no heading has the anchor %q", fragment)
			}
		}
	}
	return problems, nil
}

type link struct {
	line   int
	target string
}

var (
	// inlineLink is the destination of [text](dest "title") and ![alt](dest).
	inlineLink = regexp.MustCompile(`\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+"[^"]*")?\s*\)`)
	// referenceDef is [label]: dest.
	referenceDef = regexp.MustCompile(`^ {0,3}\[[^\]]+\]:\s*(\S+)`)
	// htmlLink is an HTML link or image written into the page.
	htmlLink = regexp.MustCompile(`<(?:a|img)\s[^>]*(?:href|src)="([^"]*)"`)
	// htmlAnchor is an anchor given by hand: <a id="..."> or <a name="...">.
	htmlAnchor = regexp.MustCompile(`<a\s[^>]*(?:id|name)="([^"]*)"`)
	// scheme starts an absolute URL: https:, mailto:, ...
	scheme = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
)

func external(target string) bool { return scheme.MatchString(target) }

// links lists the link destinations of a Markdown page, outside code blocks and code spans.
func links(page string) []link {
	var out []link
	forEachLine(page, func(n int, line string) {
		line = withoutCodeSpans(line)
		var targets []string
		for _, m := range inlineLink.FindAllStringSubmatch(line, -1) {
			targets = append(targets, strings.Trim(m[1], "<>"))
		}
		if m := referenceDef.FindStringSubmatch(line); m != nil {
			targets = append(targets, strings.Trim(m[1], "<>"))
		}
		for _, m := range htmlLink.FindAllStringSubmatch(line, -1) {
			targets = append(targets, m[1])
		}
		for _, target := range targets {
			out = append(out, link{line: n, target: target})
		}
	})
	return out
}

// headingAnchors are the anchors GitHub gives the headings of a page (ATX headings; the pages
// use no setext headings), and any given by hand in HTML.
func headingAnchors(page string) map[string]bool {
	anchors := map[string]bool{}
	seen := map[string]int{}
	forEachLine(page, func(_ int, line string) {
		for _, m := range htmlAnchor.FindAllStringSubmatch(withoutCodeSpans(line), -1) {
			anchors[m[1]] = true
		}
		text, ok := atxHeading(line)
		if !ok {
			return
		}
		// GitHub numbers a repeated anchor: waiting, waiting-1, waiting-2, ...
		base := anchorOf(text)
		a := base
		if n := seen[base]; n > 0 {
			a = fmt.Sprintf("%s-%d", base, n)
		}
		seen[base]++
		anchors[a] = true
	})
	return anchors
}

// forEachLine calls f with each line of page (numbered from 1) that is not inside a fenced code block.
func forEachLine(page string, f func(n int, line string)) {
	var fence string // the opening fence while inside a code block
	for i, line := range strings.Split(page, "\n") {
		trimmed := strings.TrimLeft(line, " ")
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, fence[:1]+" \t") == "" {
				fence = ""
			}
			continue
		}
		if len(line)-len(trimmed) < 4 {
			if n := len(trimmed) - len(strings.TrimLeft(trimmed, "`")); n >= 3 {
				fence = strings.Repeat("`", n)
				continue
			}
			if n := len(trimmed) - len(strings.TrimLeft(trimmed, "~")); n >= 3 {
				fence = strings.Repeat("~", n)
				continue
			}
		}
		f(i+1, line)
	}
}

var atxPrefix = regexp.MustCompile(`^ {0,3}(#{1,6})(?:[ \t]+|$)`)

// atxHeading returns the text of an ATX heading line (# Title), without its closing hashes.
func atxHeading(line string) (string, bool) {
	m := atxPrefix.FindStringIndex(line)
	if m == nil {
		return "", false
	}
	text := strings.TrimSpace(line[m[1]:])
	if t := strings.TrimRight(text, "#"); t == "" || strings.HasSuffix(t, " ") {
		text = strings.TrimSpace(t)
	}
	return text, true
}

var (
	linkInHeading = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
	htmlTag       = regexp.MustCompile(`<[^>]+>`)
)

// anchorOf is GitHub's anchor for a heading: its rendered text in lower case, without punctuation
// other than - and _, each space a hyphen.
func anchorOf(heading string) string {
	text := linkInHeading.ReplaceAllString(heading, "$1")
	text = htmlTag.ReplaceAllString(text, "")
	text = strings.NewReplacer("`", "", "*", "").Replace(text)
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsMark(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// withoutCodeSpans removes `code spans` from a line, so that what they show is not taken for links.
func withoutCodeSpans(line string) string {
	var b strings.Builder
	for i := 0; i < len(line); {
		if line[i] != '`' {
			b.WriteByte(line[i])
			i++
			continue
		}
		n := 0
		for i+n < len(line) && line[i+n] == '`' {
			n++
		}
		closing := strings.Index(line[i+n:], strings.Repeat("`", n))
		if closing < 0 {
			b.WriteString(line[i : i+n]) // not a code span: literal backticks
			i += n
			continue
		}
		i += n + closing + n
	}
	return b.String()
}
