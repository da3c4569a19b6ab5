package main

// The container image is FROM scratch (deploy/Dockerfile): it has no
// /etc/ssl, so `build --source=https://...` and `query` against https URLs
// would find no CA roots. The fallback bundle (Mozilla's roots, as Go's
// module publishes them) is used only when the system has none; a host or
// image with CA certificates, or SSL_CERT_FILE, still takes precedence.
import _ "golang.org/x/crypto/x509roots/fallback"
