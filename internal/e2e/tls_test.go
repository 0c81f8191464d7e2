package e2e

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/client"
)

// testCA issues certificates for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a leaf certificate for name, for a server (with localhost as its DNS name) or a client.
func (ca *testCA) issue(t *testing.T, name string, server bool) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.DNSNames = []string{"localhost"}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

// writeFile writes data into dir/name and returns the path.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, data, 0o600))
	return p
}

// mtlsTerminator is a TLS endpoint in front of the dev server that demands a client certificate
// from the clients' CA, as a Temporal cluster or Temporal Cloud does, and forwards the decrypted
// gRPC stream to the dev server.
type mtlsTerminator struct {
	ln net.Listener
	mu sync.Mutex
	// verified counts connections by the common name of their client certificate; refused counts
	// handshakes that failed.
	verified map[string]int
	refused  int
}

func startMTLSTerminator(t *testing.T, ca *testCA, backend string) *mtlsTerminator {
	t.Helper()
	certPEM, keyPEM := ca.issue(t, "temporal", true)
	serverCert, err := tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{serverCert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		NextProtos:   []string{"h2"}, // gRPC insists on ALPN h2
		MinVersion:   tls.VersionTLS12,
	})
	require.NoError(t, err)
	m := &mtlsTerminator{ln: ln, verified: map[string]int{}}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go m.forward(conn.(*tls.Conn), backend)
		}
	}()
	return m
}

func (m *mtlsTerminator) forward(conn *tls.Conn, backend string) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if err := conn.Handshake(); err != nil {
		m.mu.Lock()
		m.refused++
		m.mu.Unlock()
		return
	}
	_ = conn.SetDeadline(time.Time{})
	m.mu.Lock()
	m.verified[conn.ConnectionState().PeerCertificates[0].Subject.CommonName]++
	m.mu.Unlock()
	up, err := net.Dial("tcp", backend)
	if err != nil {
		return
	}
	defer up.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, conn); done <- struct{}{} }()
	go func() { _, _ = io.Copy(conn, up); done <- struct{}{} }()
	<-done
}

func (m *mtlsTerminator) counts() (verified map[string]int, refused int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	verified = map[string]int{}
	for k, v := range m.verified {
		verified[k] = v
	}
	return verified, m.refused
}

// TestMutualTLSToTemporal runs a worker and a gateway through a TLS endpoint that demands a client
// certificate, configured only with Temporal's own TEMPORAL_TLS_* variables, and shows that a
// missing or untrusted certificate is refused with a clear error.
func TestMutualTLSToTemporal(t *testing.T) {
	ca := newTestCA(t, "clients and servers")
	term := startMTLSTerminator(t, ca, temporalAddr)
	dir := t.TempDir()
	caPath := writeFile(t, dir, "ca.pem", ca.pem)
	queue := uniqueID(t)
	tlsEnv := func(name string) []string {
		certPEM, keyPEM := ca.issue(t, name, false)
		return []string{
			"TEMPORAL_ADDRESS=" + term.ln.Addr().String(), "TEMPORAL_TASK_QUEUE=" + queue,
			"TEMPORAL_TLS_CLIENT_CERT_PATH=" + writeFile(t, dir, name+".pem", certPEM),
			"TEMPORAL_TLS_CLIENT_KEY_PATH=" + writeFile(t, dir, name+".key", keyPEM),
			"TEMPORAL_TLS_SERVER_CA_CERT_PATH=" + caPath,
			"TEMPORAL_TLS_SERVER_NAME=localhost",
		}
	}

	t.Run("worker and gateway run a workflow through mTLS", func(t *testing.T) {
		worker, err := startProcess(filepath.Join(binDir, "worker"), append(tlsEnv("worker"), "LOG_LEVEL=warn"), os.Stderr)
		require.NoError(t, err)
		defer worker.stop()
		gw, base, err := startGateway(append(tlsEnv("gateway"), "GATEWAY_HTTP_ADDR=127.0.0.1:0"))
		require.NoError(t, err)
		defer gw.stop()
		require.NoError(t, waitReady(base))

		c := apiAt(t, base)
		wait := "20s"
		id := uniqueID(t)
		resp, err := c.StartWorkflowWithResponse(t.Context(), &client.StartWorkflowParams{Wait: &wait}, client.StartWorkflowRequest{
			WorkflowType: "Greeting", WorkflowId: &id, Input: rawJSON(`{"name":"mTLS"}`),
		})
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, resp.StatusCode(), "body: %s", resp.Body)
		require.Equal(t, client.ExecutionStatusCOMPLETED, resp.JSON201.Status)
		require.NotNil(t, resp.JSON201.Result)
		assert.JSONEq(t, `{"greeting":"Hello, mTLS!"}`, string(*resp.JSON201.Result))
		assert.Equal(t, queue, resp.JSON201.TaskQueue)

		verified, _ := term.counts()
		assert.Positive(t, verified["worker"], "the worker connected with its certificate")
		assert.Positive(t, verified["gateway"], "the gateway connected with its certificate")
	})

	t.Run("a worker without a client certificate is refused at start", func(t *testing.T) {
		_, refusedBefore := term.counts()
		stderr := workerFails(t, 60*time.Second, []string{
			"TEMPORAL_ADDRESS=" + term.ln.Addr().String(), "TEMPORAL_TASK_QUEUE=" + queue,
			"TEMPORAL_TLS=true", "TEMPORAL_TLS_SERVER_CA_CERT_PATH=" + caPath, "TEMPORAL_TLS_SERVER_NAME=localhost",
		})
		// The message says where and how it connected. Whether the TLS alert itself ("certificate
		// required") or only a broken pipe reaches the client is a race in TLS 1.3, where the
		// server checks the certificate after the client has finished its handshake.
		assert.Contains(t, stderr,
			"connect to temporal at "+term.ln.Addr().String()+" (tls true, client certificate false, api key false)")
		_, refused := term.counts()
		assert.Greater(t, refused, refusedBefore)
	})

	t.Run("a gateway with an untrusted certificate is not ready and answers 503", func(t *testing.T) {
		rogue := newTestCA(t, "someone else")
		certPEM, keyPEM := rogue.issue(t, "gateway", false)
		env := []string{
			"TEMPORAL_ADDRESS=" + term.ln.Addr().String(), "TEMPORAL_TASK_QUEUE=" + queue, "GATEWAY_HTTP_ADDR=127.0.0.1:0",
			"TEMPORAL_TLS_CLIENT_CERT_PATH=" + writeFile(t, dir, "rogue.pem", certPEM),
			"TEMPORAL_TLS_CLIENT_KEY_PATH=" + writeFile(t, dir, "rogue.key", keyPEM),
			"TEMPORAL_TLS_SERVER_CA_CERT_PATH=" + caPath, "TEMPORAL_TLS_SERVER_NAME=localhost",
		}
		gw, base, err := startGateway(env)
		require.NoError(t, err)
		defer gw.stop()
		resp, err := http.Get(base + "/readyz")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		assert.NotEmpty(t, resp.Header.Get("Retry-After"))

		r, err := apiAt(t, base).GetWorkflowWithResponse(t.Context(), "anything", nil)
		require.NoError(t, err)
		apiProblem(t, r, r.ApplicationproblemJSON503, http.StatusServiceUnavailable, "urn:temporal-http:problem:temporal-unavailable")
	})

	t.Run("a misconfigured certificate stops the process at start", func(t *testing.T) {
		stderr := workerFails(t, 10*time.Second,
			append(tlsEnv("worker"), "TEMPORAL_TLS_CLIENT_KEY_PATH="+filepath.Join(dir, "missing.key")))
		assert.Contains(t, stderr, "TEMPORAL_TLS_")
		assert.Contains(t, stderr, "missing.key")
	})
}

// workerFails runs the worker binary with env and requires it to exit with an error within
// timeout; it returns what the worker wrote to stderr.
func workerFails(t *testing.T, timeout time.Duration, env []string) string {
	t.Helper()
	var stderr bytes.Buffer
	worker, err := startProcess(filepath.Join(binDir, "worker"), env, &stderr)
	require.NoError(t, err)
	select {
	case <-worker.done:
	case <-time.After(timeout):
		worker.stop()
		t.Fatalf("the worker kept running for %s", timeout)
	}
	require.NotZero(t, worker.cmd.ProcessState.ExitCode(), "stderr: %s", stderr.String())
	return stderr.String()
}
