package s3_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/blindlist/blindlist/internal/store/s3"
)

// Example stores and reads one object. It needs a running S3-compatible
// server, so it has no Output line (it is compiled, not run); the tests in
// internal/store run the same calls against a real SeaweedFS.
func Example() {
	c, err := s3.New(s3.Config{
		Endpoint:  "http://127.0.0.1:8333",
		Region:    "us-east-1",
		Bucket:    "blindlist-keys",
		AccessKey: os.Getenv("S3_ACCESS_KEY"),
		SecretKey: os.Getenv("S3_SECRET_KEY"),
		Timeout:   10 * time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Put(ctx, "blindlist/kv/example", []byte("key bytes")); err != nil {
		log.Fatal(err)
	}
	b, err := c.Get(ctx, "blindlist/kv/example", 1<<20)
	fmt.Println(string(b), err)
}
