// k8s-yaml reads YAML or JSON manifests exactly as `kubectl apply -f` does, for the differential
// tests of our reader (test/differential/). It goes through kubectl's own resource builder
// (k8s.io/cli-runtime: YAMLOrJSONDecoder → sigs.k8s.io/yaml → unstructured objects, `List`s
// flattened, empty and `null` documents skipped) and prints what kubectl would send.
//
// Usage:
//
//	k8s-yaml [FILE...]   one JSON line per input (stdin when no FILE or "-")
//	k8s-yaml -batch      requests on stdin, one JSON line each: {"id":"…","data":"<base64 bytes>"};
//	                     one answer line per request, in order (one process for a whole corpus)
//
// An answer is {"id":…, "objects":[…], "errors":["…"], "strict":"…"}:
//   - objects: every object kubectl would send, in order, as JSON (map keys sorted; integers
//     exact, int64; other numbers float64). Empty documents give no object: kubectl skips them.
//   - errors: what kubectl reports for the stream (a syntax error stops the stream; a document
//     that is not an object, or has no kind, is an error and reading goes on), omitted when none.
//   - strict: the first error of strict decoding (duplicate keys, as the API server refuses them
//     under fieldValidation=Strict when it gets the YAML itself), omitted when none.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/cli-runtime/pkg/resource"
	kjson "sigs.k8s.io/json"
	sigsyaml "sigs.k8s.io/yaml"
)

type request struct {
	ID   string `json:"id"`
	Data []byte `json:"data"`
}

type answer struct {
	ID      string            `json:"id,omitempty"`
	Objects []json.RawMessage `json:"objects"`
	Errors  []string          `json:"errors,omitempty"`
	Strict  string            `json:"strict,omitempty"`
}

// read gives kubectl's reading of one stream.
func read(id string, data []byte) answer {
	a := answer{ID: id, Objects: []json.RawMessage{}}
	// What `kubectl apply -f` builds: Unstructured, ContinueOnError, Flatten (kubectl apply's own
	// builder adds only server-side steps: mapping, namespace defaulting, schema checks).
	r := resource.NewLocalBuilder().
		Unstructured().
		ContinueOnError().
		Stream(bytes.NewReader(data), id).
		Flatten().
		Do()
	err := r.Visit(func(info *resource.Info, err error) error {
		if err != nil {
			return err
		}
		u, ok := info.Object.(*unstructured.Unstructured)
		if !ok {
			return fmt.Errorf("unexpected object type %T", info.Object)
		}
		b, err := json.Marshal(u.Object)
		if err != nil {
			return err
		}
		a.Objects = append(a.Objects, b)
		return nil
	})
	if err != nil {
		a.Errors = flatten(err)
	}
	if s := strict(data); s != nil {
		a.Strict = s.Error()
	}
	return a
}

func flatten(err error) []string {
	var agg interface{ Errors() []error }
	if errors.As(err, &agg) {
		out := []string{}
		for _, e := range agg.Errors() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []string{err.Error()}
}

// strict decodes every document as the API server does with fieldValidation=Strict: YAML with
// sigs.k8s.io/yaml's strict conversion, JSON with sigs.k8s.io/json's strict decoding.
func strict(data []byte) error {
	reader, _, isJSON := yaml.GuessJSONStream(bytes.NewReader(data), 4096)
	if isJSON {
		dec := json.NewDecoder(reader)
		for {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				if err == io.EOF {
					return nil
				}
				return nil // a syntax error: the lenient reading reports it
			}
			var v interface{}
			strictErrs, err := kjson.UnmarshalStrict(raw, &v)
			if err == nil && len(strictErrs) > 0 {
				return strictErrs[0]
			}
		}
	}
	docs := yaml.NewYAMLReader(bufio.NewReader(reader))
	for {
		doc, err := docs.Read()
		if err != nil {
			return nil // io.EOF, or a separator error the lenient reading reports
		}
		if _, lenientErr := sigsyaml.YAMLToJSON(doc); lenientErr != nil {
			continue
		}
		if _, err := sigsyaml.YAMLToJSONStrict(doc); err != nil {
			return err
		}
	}
}

func main() {
	batch := flag.Bool("batch", false, "read requests from stdin (one JSON line each) and answer one line per request")
	flag.Parse()
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	if *batch {
		in := bufio.NewReader(os.Stdin)
		for {
			line, err := in.ReadBytes('\n')
			if len(bytes.TrimSpace(line)) > 0 {
				var req request
				if jerr := json.Unmarshal(line, &req); jerr != nil {
					fmt.Fprintf(os.Stderr, "k8s-yaml: bad request: %v\n", jerr)
					os.Exit(2)
				}
				if eerr := enc.Encode(read(req.ID, req.Data)); eerr != nil {
					os.Exit(1)
				}
				out.Flush()
			}
			if err != nil {
				return
			}
		}
	}
	files := flag.Args()
	if len(files) == 0 {
		files = []string{"-"}
	}
	failed := false
	for _, f := range files {
		var data []byte
		var err error
		if f == "-" {
			data, err = io.ReadAll(os.Stdin)
		} else {
			data, err = os.ReadFile(f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "k8s-yaml: %v\n", err)
			os.Exit(2)
		}
		a := read(f, data)
		failed = failed || len(a.Errors) > 0
		if err := enc.Encode(a); err != nil {
			os.Exit(1)
		}
	}
	if failed {
		out.Flush()
		os.Exit(1)
	}
}
