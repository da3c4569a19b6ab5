package s3

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSignAWSExamples checks sign against the worked examples of AWS's
// "Signature Calculations for the Authorization Header" page (S3 API
// reference): GET Object with a Range header and PUT Object with a
// storage class, both with the documentation's example credentials.
func TestSignAWSExamples(t *testing.T) {
	const (
		accessKey = "AKIAIOSFODNN7EXAMPLE"
		secretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	)
	when := time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name, method, url string
		headers           map[string]string
		body              string
		signedHeaders     string
		signature         string
	}{
		{
			name: "GET Object", method: "GET", url: "https://examplebucket.s3.amazonaws.com/test.txt",
			headers:       map[string]string{"Range": "bytes=0-9"},
			signedHeaders: "host;range;x-amz-content-sha256;x-amz-date",
			signature:     "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
		},
		{
			name: "PUT Object", method: "PUT", url: "https://examplebucket.s3.amazonaws.com/test$file.text",
			headers:       map[string]string{"Date": "Fri, 24 May 2013 00:00:00 GMT", "X-Amz-Storage-Class": "REDUCED_REDUNDANCY"},
			body:          "Welcome to Amazon S3.",
			signedHeaders: "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
			signature:     "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, tc.url, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			sum := sha256.Sum256([]byte(tc.body))
			sign(req, accessKey, secretKey, "us-east-1", hex.EncodeToString(sum[:]), when)
			want := "AWS4-HMAC-SHA256 Credential=" + accessKey + "/20130524/us-east-1/s3/aws4_request, SignedHeaders=" +
				tc.signedHeaders + ", Signature=" + tc.signature
			if got := req.Header.Get("Authorization"); got != want {
				t.Errorf("Authorization\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, path, query string }{
		{"/a/b.c", "/a/b.c", "%2Fa%2Fb.c"},
		{"/test$file.text", "/test%24file.text", "%2Ftest%24file.text"},
		{"/x y~_-", "/x%20y~_-", "%2Fx%20y~_-"},
		{"", "/", ""},
	} {
		if got := escapePath(tc.in); got != tc.path {
			t.Errorf("escapePath(%q) = %q, want %q", tc.in, got, tc.path)
		}
		if got := escapeQuery(tc.in); got != tc.query {
			t.Errorf("escapeQuery(%q) = %q, want %q", tc.in, got, tc.query)
		}
	}
}
