package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeCertPair writes a self-signed certificate and its key as PEM files and returns their paths.
func writeCertPair(t *testing.T) (certPath, keyPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "worker"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	dir := t.TempDir()
	certPath, keyPath = filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	require.NoError(t, os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
	return certPath, keyPath
}

func TestTemporalConnectionWithMutualTLS(t *testing.T) {
	certPath, keyPath := writeCertPair(t)
	cfg, err := LoadWorker(env(map[string]string{
		"TEMPORAL_ADDRESS":                 "ns.a1b2c.tmprl.cloud:7233",
		"TEMPORAL_NAMESPACE":               "ns.a1b2c",
		"TEMPORAL_TLS_CLIENT_CERT_PATH":    certPath,
		"TEMPORAL_TLS_CLIENT_KEY_PATH":     keyPath,
		"TEMPORAL_TLS_SERVER_CA_CERT_PATH": certPath,
		"TEMPORAL_TLS_SERVER_NAME":         "temporal.internal",
	}))
	require.NoError(t, err)
	conn := cfg.Temporal.Connection
	require.NotNil(t, conn.ConnectionOptions.TLS)
	assert.True(t, cfg.Temporal.TLS)
	assert.Len(t, conn.ConnectionOptions.TLS.Certificates, 1, "the client certificate is loaded at start")
	assert.Equal(t, "tls true, client certificate true, api key false", cfg.Temporal.Security())
	assert.NotNil(t, conn.ConnectionOptions.TLS.RootCAs)
	assert.Equal(t, "temporal.internal", conn.ConnectionOptions.TLS.ServerName)
	assert.Equal(t, "ns.a1b2c", cfg.Temporal.Namespace)
	assert.Nil(t, conn.Credentials)
}

func TestTemporalConnectionWithAPIKey(t *testing.T) {
	cfg, err := LoadGateway(env(map[string]string{
		"TEMPORAL_ADDRESS": "eu-west-1.aws.api.temporal.io:7233", "TEMPORAL_NAMESPACE": "ns.a1b2c",
		"TEMPORAL_API_KEY": "secret-key",
	}))
	require.NoError(t, err)
	assert.NotNil(t, cfg.Temporal.Connection.Credentials)
	assert.True(t, cfg.Temporal.APIKey)
	assert.True(t, cfg.Temporal.TLS, "an API key turns TLS on, as for the Temporal CLI")

	cfg, err = LoadGateway(env(map[string]string{"TEMPORAL_API_KEY": "secret-key", "TEMPORAL_TLS": "false"}))
	require.NoError(t, err)
	assert.False(t, cfg.Temporal.TLS, "TEMPORAL_TLS=false wins, for a plain proxy in front of Temporal")
}

func TestTemporalConnectionFailsAtStartWhenMisconfigured(t *testing.T) {
	certPath, keyPath := writeCertPair(t)
	missing := filepath.Join(t.TempDir(), "nope.pem")
	for name, vars := range map[string]map[string]string{
		"key without certificate": {"TEMPORAL_TLS_CLIENT_KEY_PATH": keyPath},
		"certificate without key": {"TEMPORAL_TLS_CLIENT_CERT_PATH": certPath},
		"unreadable certificate":  {"TEMPORAL_TLS_CLIENT_CERT_PATH": missing, "TEMPORAL_TLS_CLIENT_KEY_PATH": keyPath},
		"key that does not match": {"TEMPORAL_TLS_CLIENT_CERT_PATH": certPath, "TEMPORAL_TLS_CLIENT_KEY_PATH": certPath},
		"unreadable CA":           {"TEMPORAL_TLS_SERVER_CA_CERT_PATH": missing},
		"missing profile file":    {"TEMPORAL_CONFIG_FILE": missing, "TEMPORAL_PROFILE": "cloud"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := LoadWorker(env(vars))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "TEMPORAL_")
		})
	}
}

func TestTemporalConnectionFromAProfileFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "temporal.toml")
	require.NoError(t, os.WriteFile(file, []byte(`
[profile.cloud]
address = "ns.a1b2c.tmprl.cloud:7233"
namespace = "ns.a1b2c"
api_key = "from-file"
`), 0o600))
	cfg, err := LoadWorker(env(map[string]string{"TEMPORAL_CONFIG_FILE": file, "TEMPORAL_PROFILE": "cloud", "TEMPORAL_NAMESPACE": "override"}))
	require.NoError(t, err)
	assert.Equal(t, "ns.a1b2c.tmprl.cloud:7233", cfg.Temporal.Address)
	assert.Equal(t, "override", cfg.Temporal.Namespace, "variables win over the file, as for the CLI")
	assert.True(t, cfg.Temporal.APIKey)
}

func TestTemporalGRPCCompression(t *testing.T) {
	gw, err := LoadGateway(env(nil))
	require.NoError(t, err)
	assert.Equal(t, "none", gw.Temporal.Compression, "the gateway's requests are small")
	assert.IsType(t, &client.GrpcCompressionNone{}, gw.Temporal.Connection.ConnectionOptions.GrpcCompression)

	w, err := LoadWorker(env(nil))
	require.NoError(t, err)
	assert.Equal(t, "gzip", w.Temporal.Compression, "the SDK's default")
	assert.IsType(t, &client.GrpcCompressionGzip{}, w.Temporal.Connection.ConnectionOptions.GrpcCompression)

	gw, err = LoadGateway(env(map[string]string{"TEMPORAL_GRPC_COMPRESSION": "GZip"}))
	require.NoError(t, err)
	assert.IsType(t, &client.GrpcCompressionGzip{}, gw.Temporal.Connection.ConnectionOptions.GrpcCompression)

	_, err = LoadGateway(env(map[string]string{"TEMPORAL_GRPC_COMPRESSION": "zstd"}))
	require.ErrorContains(t, err, "TEMPORAL_GRPC_COMPRESSION")
}
