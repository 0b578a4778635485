// sigstore-fixture: a private, throwaway Sigstore (a "Fulcio" CA, a "Rekor" log, a CT log and a
// TSA, built on sigstore-go's pkg/testing/ca) that signs one OCI subject digest the way
// `cosign sign` (v3, keyless) does, for offline end-to-end tests of keyless verification.
//
// Usage:
//
//	sigstore-fixture -digest sha256:<hex> -identity SAN -issuer URL -out DIR
//	                 [-github-workflow-trigger T -github-workflow-sha S -github-workflow-name N
//	                  -github-workflow-repository R -github-workflow-ref REF] [-simplesigning REPO]
//
// Writes into DIR:
//
//	trusted_root.json   dev.sigstore.trustroot.v1 TrustedRoot (what `cosign verify --trusted-root` reads)
//	good.json           Sigstore bundle v0.3: DSSE envelope over an in-toto statement whose subject is
//	                    the digest, predicate https://sigstore.dev/cosign/sign/v1 (cosign v3's shape),
//	                    a short-lived leaf certificate with an embedded SCT, a Rekor v1 "dsse" entry
//	                    with inclusion promise and inclusion proof, and an RFC 3161 timestamp
//	expired.json        the same, but the certificate expired before the log integrated the entry
//	wrong-subject.json  a valid signature, but over another digest than the one given
//	tampered.json       wrong-subject.json with the statement's subject edited to the given digest
//
// and with -simplesigning REPO also what cosign v2 `sign` (keyless) pushes as a layer of the
// `sha256-<hex>.sig` image, by the same CA and log, in simplesigning/{good,wrong-subject,tampered}/:
//
//	payload.json        the simple-signing payload (docker-reference REPO, docker-manifest-digest)
//	annotations.json    the layer annotations: signature, Fulcio certificate, chain, Rekor bundle
//	                    (SignedEntryTimestamp + {body, integratedTime, logIndex, logID}, a hashedrekord)
//
// (wrong-subject: a valid signature over another digest; tampered: its payload edited to name the
// digest), and prints a JSON summary on stdout. Each bundle is checked with sigstore-go's verifier
// (the one cosign v3 uses, with cosign's keyless options) before the program exits: good.json must
// pass, every other bundle must fail; each simple-signing signature must verify over its payload
// except tampered's (cosign v2 itself judges them in test/e2e/keyless.test.ts); otherwise exit 1.
package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cyberphone/json-canonicalization/go/src/webpki.org/jsoncanonicalizer"
	ct "github.com/google/certificate-transparency-go"
	"github.com/google/certificate-transparency-go/ctutil"
	cttls "github.com/google/certificate-transparency-go/tls"
	ctx509 "github.com/google/certificate-transparency-go/x509"
	ctx509util "github.com/google/certificate-transparency-go/x509util"
	intotov1 "github.com/in-toto/attestation/go/v1"
	ssldsse "github.com/secure-systems-lab/go-securesystemslib/dsse"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/rekor/pkg/pki"
	"github.com/sigstore/rekor/pkg/types"
	rekordsse "github.com/sigstore/rekor/pkg/types/dsse"
	rekordssev001 "github.com/sigstore/rekor/pkg/types/dsse/v0.0.1"
	"github.com/sigstore/rekor/pkg/types/hashedrekord"
	hashedrekordv001 "github.com/sigstore/rekor/pkg/types/hashedrekord/v0.0.1"
	"github.com/sigstore/rekor/pkg/util"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	sigdsse "github.com/sigstore/sigstore/pkg/signature/dsse"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

const (
	cosignSignPredicateType = "https://sigstore.dev/cosign/sign/v1" // cosign v3 pkg/types CosignSignPredicateType
	inTotoPayloadType       = "application/vnd.in-toto+json"
	bundleMediaType         = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// Verifiers (sigstore-js) match the checkpoint's signer name against the log's base URL.
	rekorHost = "rekor.localhost"
	rekorURL  = "https://" + rekorHost
	ctlogURL  = "https://ctfe.localhost/test"
)

type githubClaims struct{ trigger, sha, name, repository, ref string }

type fixture struct {
	vs          *ca.VirtualSigstore // the TSA
	rekorKey    *ecdsa.PrivateKey
	rekorLogID  [32]byte
	fulcioRoot  *x509.Certificate
	fulcioInter *x509.Certificate
	fulcioKey   *ecdsa.PrivateKey
	ctKey       *ecdsa.PrivateKey
	ctLogID     [32]byte
	identity    string
	issuer      string
	github      githubClaims
}

func main() {
	digest := flag.String("digest", "", "subject digest, sha256:<64 hex> (the OCI manifest to sign)")
	identity := flag.String("identity", "", "certificate identity (SAN): a URI if it contains ://, else an email")
	issuer := flag.String("issuer", "", "OIDC issuer written into the certificate")
	out := flag.String("out", "", "output directory (created)")
	simple := flag.String("simplesigning", "", "also write cosign v2 keyless simple-signing signatures, docker-reference REPO (e.g. registry.example/policies)")
	var gh githubClaims
	flag.StringVar(&gh.trigger, "github-workflow-trigger", "", "GitHub workflow trigger claim (OID 1.3.6.1.4.1.57264.1.2)")
	flag.StringVar(&gh.sha, "github-workflow-sha", "", "GitHub workflow SHA claim (OID ...1.3)")
	flag.StringVar(&gh.name, "github-workflow-name", "", "GitHub workflow name claim (OID ...1.4)")
	flag.StringVar(&gh.repository, "github-workflow-repository", "", "GitHub workflow repository claim (OID ...1.5)")
	flag.StringVar(&gh.ref, "github-workflow-ref", "", "GitHub workflow ref claim (OID ...1.6)")
	flag.Parse()
	if *digest == "" || *identity == "" || *issuer == "" || *out == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: sigstore-fixture -digest sha256:<hex> -identity SAN -issuer URL -out DIR [-github-workflow-* VALUE]")
		os.Exit(2)
	}
	hexDigest, ok := strings.CutPrefix(*digest, "sha256:")
	if raw, err := hex.DecodeString(hexDigest); !ok || err != nil || len(raw) != sha256.Size || hexDigest != strings.ToLower(hexDigest) {
		fmt.Fprintf(os.Stderr, "sigstore-fixture: -digest must be sha256:<64 lowercase hex digits>, got %q\n", *digest)
		os.Exit(2)
	}
	if err := run(hexDigest, *identity, *issuer, gh, *out, *simple); err != nil {
		fmt.Fprintf(os.Stderr, "sigstore-fixture: %v\n", err)
		os.Exit(1)
	}
}

func run(hexDigest, identity, issuer string, gh githubClaims, out, dockerRef string) error {
	f, err := newFixture(identity, issuer, gh)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	now := time.Now().Truncate(time.Second)
	trustedRoot, err := f.trustedRoot(now)
	if err != nil {
		return err
	}
	rootJSON, err := trustedRoot.MarshalJSON()
	if err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(out, "trusted_root.json"), rootJSON); err != nil {
		return err
	}

	otherDigest := otherHex(hexDigest)
	good, err := f.sign(hexDigest, now.Add(-time.Minute), now.Add(9*time.Minute), now)
	if err != nil {
		return fmt.Errorf("good: %w", err)
	}
	// The certificate's 60 s lifetime ended 40 s before the log integrated the entry.
	expired, err := f.sign(hexDigest, now.Add(-100*time.Second), now.Add(-40*time.Second), now)
	if err != nil {
		return fmt.Errorf("expired: %w", err)
	}
	wrongSubject, err := f.sign(otherDigest, now.Add(-time.Minute), now.Add(9*time.Minute), now)
	if err != nil {
		return fmt.Errorf("wrong-subject: %w", err)
	}
	// The attack a digest check alone would miss: a bundle signed for another artifact, its
	// statement edited to name ours; only the signature and the log entry give it away.
	tampered, err := tamper(wrongSubject, otherDigest, hexDigest)
	if err != nil {
		return fmt.Errorf("tampered: %w", err)
	}

	type result struct {
		File    string `json:"file"`
		Expect  string `json:"expect"`
		Verdict string `json:"sigstoreGo"`
		Error   string `json:"error,omitempty"`
	}
	cases := []struct {
		name   string
		bundle *protobundle.Bundle
		pass   bool
	}{
		{"good.json", good, true},
		{"expired.json", expired, false},
		{"tampered.json", tampered, false},
		{"wrong-subject.json", wrongSubject, false},
	}
	var results []result
	var mismatch []string
	for _, c := range cases {
		raw, err := protojson.Marshal(c.bundle)
		if err != nil {
			return err
		}
		if err := writeJSON(filepath.Join(out, c.name), raw); err != nil {
			return err
		}
		verr := selfCheck(trustedRoot, raw, hexDigest, identity, issuer)
		r := result{File: c.name, Expect: map[bool]string{true: "pass", false: "fail"}[c.pass], Verdict: "pass"}
		if verr != nil {
			r.Verdict, r.Error = "fail", verr.Error()
		}
		if (verr == nil) != c.pass {
			mismatch = append(mismatch, fmt.Sprintf("%s: expected %s, sigstore-go says %s %s", c.name, r.Expect, r.Verdict, r.Error))
		}
		results = append(results, r)
	}
	fields := map[string]any{
		"digest":        "sha256:" + hexDigest,
		"otherDigest":   "sha256:" + otherDigest,
		"identity":      identity,
		"issuer":        issuer,
		"trustedRoot":   "trusted_root.json",
		"integratedAt":  now.UTC().Format(time.RFC3339),
		"bundles":       results,
		"predicateType": cosignSignPredicateType,
	}
	if dockerRef != "" {
		checked, err := f.writeSimpleSigning(out, dockerRef, hexDigest, otherDigest, now)
		if err != nil {
			return err
		}
		if !checked["good"] || !checked["wrong-subject"] || checked["tampered"] {
			mismatch = append(mismatch, fmt.Sprintf("simplesigning: signature over the payload verifies %v; want good and wrong-subject only", checked))
		}
		fields["simpleSigning"] = map[string]any{"dir": "simplesigning", "dockerReference": dockerRef, "signatureVerifies": checked}
	}
	summary, err := json.MarshalIndent(fields, "", "  ")
	if err != nil {
		return err
	}
	fmt.Println(string(summary))
	if len(mismatch) > 0 {
		return errors.New("self-check failed:\n  " + strings.Join(mismatch, "\n  "))
	}
	return nil
}

func newFixture(identity, issuer string, gh githubClaims) (*fixture, error) {
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		return nil, err
	}
	// sigstore-go's helpers: root valid now-5h..now+5h, intermediate now-2m..now+2h.
	fulcioRoot, rootKey, err := ca.GenerateRootCa()
	if err != nil {
		return nil, err
	}
	fulcioInter, interKey, err := ca.GenerateFulcioIntermediate(fulcioRoot, rootKey)
	if err != nil {
		return nil, err
	}
	ctKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	ctPub, err := x509.MarshalPKIXPublicKey(ctKey.Public())
	if err != nil {
		return nil, err
	}
	rekorKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	rekorPub, err := x509.MarshalPKIXPublicKey(rekorKey.Public())
	if err != nil {
		return nil, err
	}
	return &fixture{vs: vs, rekorKey: rekorKey, rekorLogID: sha256.Sum256(rekorPub),
		fulcioRoot: fulcioRoot, fulcioInter: fulcioInter, fulcioKey: interKey,
		ctKey: ctKey, ctLogID: sha256.Sum256(ctPub), identity: identity, issuer: issuer, github: gh}, nil
}

// trustedRoot: our Fulcio CA, Rekor and CT log keys, and the virtual Sigstore's TSA chain.
func (f *fixture) trustedRoot(now time.Time) (*root.TrustedRoot, error) {
	start := now.Add(-24 * time.Hour)
	fulcio := &root.FulcioCertificateAuthority{
		Root:                f.fulcioRoot,
		Intermediates:       []*x509.Certificate{f.fulcioInter},
		ValidityPeriodStart: start,
		URI:                 "https://fulcio.localhost",
	}
	rekor := &root.TransparencyLog{BaseURL: rekorURL, ID: f.rekorLogID[:], ValidityPeriodStart: start,
		HashFunc: crypto.SHA256, PublicKey: f.rekorKey.Public(), SignatureHashFunc: crypto.SHA256}
	ctlog := &root.TransparencyLog{BaseURL: ctlogURL, ID: f.ctLogID[:], ValidityPeriodStart: start,
		HashFunc: crypto.SHA256, PublicKey: f.ctKey.Public(), SignatureHashFunc: crypto.SHA256}
	return root.NewTrustedRoot(root.TrustedRootMediaType01,
		[]root.CertificateAuthority{fulcio},
		map[string]*root.TransparencyLog{hex.EncodeToString(f.ctLogID[:]): ctlog},
		f.vs.TimestampingAuthorities(),
		map[string]*root.TransparencyLog{hex.EncodeToString(f.rekorLogID[:]): rekor})
}

// sign makes one bundle the way cosign v3 `sign` does for an image digest (cmd/cosign/cli/sign
// signDigestBundle): an in-toto v1 statement, subject {sha256: hex}, predicate {}, in a DSSE
// envelope signed by a fresh key certified by "Fulcio" for [notBefore, notAfter].
func (f *fixture) sign(hexDigest string, notBefore, notAfter, integratedTime time.Time) (*protobundle.Bundle, error) {
	statement, err := statementFor(hexDigest)
	if err != nil {
		return nil, err
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	leaf, err := f.leafCertificate(leafKey, notBefore, notAfter)
	if err != nil {
		return nil, err
	}
	signer, err := signature.LoadECDSASignerVerifier(leafKey, crypto.SHA256)
	if err != nil {
		return nil, err
	}
	envSigner, err := ssldsse.NewEnvelopeSigner(&sigdsse.SignerAdapter{SignatureSigner: signer, Pub: &leafKey.PublicKey})
	if err != nil {
		return nil, err
	}
	env, err := envSigner.SignPayload(context.Background(), inTotoPayloadType, statement)
	if err != nil {
		return nil, err
	}
	sig, err := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
	if err != nil {
		return nil, err
	}
	tle, err := f.logEntry(leaf, env, sig, integratedTime)
	if err != nil {
		return nil, err
	}
	tsr, err := f.vs.TimestampResponse(sig)
	if err != nil {
		return nil, err
	}
	return &protobundle.Bundle{
		MediaType: bundleMediaType,
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content:     &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: leaf.Raw}},
			TlogEntries: []*protorekor.TransparencyLogEntry{tle},
			TimestampVerificationData: &protobundle.TimestampVerificationData{
				Rfc3161Timestamps: []*protocommon.RFC3161SignedTimestamp{{SignedTimestamp: tsr}},
			},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload:     statement,
			PayloadType: env.PayloadType,
			Signatures:  []*protodsse.Signature{{Sig: sig}},
		}},
	}, nil
}

// logEntry: a Rekor v1 "dsse" v0.0.1 entry as rekor.sigstore.dev returns it: the canonical body
// (built with rekor's own types), integrated time, the signed entry timestamp (inclusion promise)
// and an inclusion proof at index 1 of a two-leaf tree under a signed checkpoint.
// sigstore-go's VirtualSigstore.GenerateTlogEntry is not used: its checkpoint claims a tree of 42
// leaves while its proof is for a tree of one, which sigstore-js (rightly) refuses.
func (f *fixture) logEntry(leaf *x509.Certificate, env *ssldsse.Envelope, sig []byte, integratedTime time.Time) (*protorekor.TransparencyLogEntry, error) {
	ctx := context.Background()
	certPEM, err := cryptoutils.MarshalCertificateToPEM(leaf)
	if err != nil {
		return nil, err
	}
	envJSON, err := json.Marshal(env)
	if err != nil {
		return nil, err
	}
	proposed, err := types.NewProposedEntry(ctx, rekordsse.KIND, rekordssev001.APIVERSION, types.ArtifactProperties{
		ArtifactBytes: envJSON, PublicKeyBytes: [][]byte{certPEM}, PKIFormat: string(pki.X509), SignatureBytes: sig,
	})
	if err != nil {
		return nil, err
	}
	impl, err := types.CreateVersionedEntry(proposed)
	if err != nil {
		return nil, err
	}
	body, err := types.CanonicalizeEntry(ctx, impl)
	if err != nil {
		return nil, err
	}

	const logIndex, treeSize = 1, 2
	previous := sha256.Sum256([]byte("\x00an earlier entry"))
	leafHash := sha256.Sum256(append([]byte{0}, body...))
	rootHash := sha256.Sum256(append(append([]byte{1}, previous[:]...), leafHash[:]...))
	signer, err := signature.LoadECDSASignerVerifier(f.rekorKey, crypto.SHA256)
	if err != nil {
		return nil, err
	}
	checkpoint, err := util.CreateAndSignCheckpoint(ctx, rekorHost, 1193050959916656506, treeSize, rootHash[:], signer)
	if err != nil {
		return nil, err
	}
	set, err := f.signedEntryTimestamp(body, integratedTime, logIndex)
	if err != nil {
		return nil, err
	}
	return &protorekor.TransparencyLogEntry{
		LogIndex:         logIndex,
		LogId:            &protocommon.LogId{KeyId: f.rekorLogID[:]},
		KindVersion:      &protorekor.KindVersion{Kind: rekordsse.KIND, Version: rekordssev001.APIVERSION},
		IntegratedTime:   integratedTime.Unix(),
		InclusionPromise: &protorekor.InclusionPromise{SignedEntryTimestamp: set},
		InclusionProof: &protorekor.InclusionProof{
			LogIndex:   logIndex,
			RootHash:   rootHash[:],
			TreeSize:   treeSize,
			Hashes:     [][]byte{previous[:]},
			Checkpoint: &protorekor.Checkpoint{Envelope: string(checkpoint)},
		},
		CanonicalizedBody: body,
	}, nil
}

// signedEntryTimestamp: the log's signature over the canonical JSON of {body, integratedTime,
// logIndex, logID} (the inclusion promise Rekor v1 returns as verification.signedEntryTimestamp).
func (f *fixture) signedEntryTimestamp(body []byte, integratedTime time.Time, logIndex int64) ([]byte, error) {
	setPayload, err := json.Marshal(f.rekorPayload(body, integratedTime, logIndex))
	if err != nil {
		return nil, err
	}
	canonical, err := jsoncanonicalizer.Transform(setPayload)
	if err != nil {
		return nil, err
	}
	signer, err := signature.LoadECDSASignerVerifier(f.rekorKey, crypto.SHA256)
	if err != nil {
		return nil, err
	}
	return signer.SignMessage(bytes.NewReader(canonical))
}

func (f *fixture) rekorPayload(body []byte, integratedTime time.Time, logIndex int64) tlog.RekorPayload {
	return tlog.RekorPayload{
		Body:           base64.StdEncoding.EncodeToString(body),
		IntegratedTime: integratedTime.Unix(),
		LogIndex:       logIndex,
		LogID:          hex.EncodeToString(f.rekorLogID[:]),
	}
}

func statementFor(hexDigest string) ([]byte, error) {
	annotations, err := structpb.NewStruct(map[string]any{}) // cosign sign without -a
	if err != nil {
		return nil, err
	}
	return protojson.Marshal(&intotov1.Statement{
		Type:          intotov1.StatementTypeUri,
		Subject:       []*intotov1.ResourceDescriptor{{Digest: map[string]string{"sha256": hexDigest}, Annotations: annotations}},
		PredicateType: cosignSignPredicateType,
		Predicate:     &structpb.Struct{},
	})
}

// leafCertificate issues a Fulcio-shaped code-signing certificate: empty subject, the identity as
// URI or email SAN, the issuer extension (v1 raw and v2 DER), optional GitHub workflow claims,
// and an embedded SCT from the test CT log over the precertificate.
func (f *fixture) leafCertificate(key *ecdsa.PrivateKey, notBefore, notAfter time.Time) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 159))
	if err != nil {
		return nil, err
	}
	issuerV2, err := asn1.MarshalWithParams(f.issuer, "utf8")
	if err != nil {
		return nil, err
	}
	exts := []pkix.Extension{
		{Id: certificate.OIDIssuer, Value: []byte(f.issuer)},
		{Id: certificate.OIDIssuerV2, Value: issuerV2},
	}
	for _, c := range []struct {
		oid asn1.ObjectIdentifier
		v   string
	}{
		{certificate.OIDGitHubWorkflowTrigger, f.github.trigger},
		{certificate.OIDGitHubWorkflowSHA, f.github.sha},
		{certificate.OIDGitHubWorkflowName, f.github.name},
		{certificate.OIDGitHubWorkflowRepository, f.github.repository},
		{certificate.OIDGitHubWorkflowRef, f.github.ref},
	} {
		if c.v != "" {
			exts = append(exts, pkix.Extension{Id: c.oid, Value: []byte(c.v)})
		}
	}
	tmpl := &x509.Certificate{
		SerialNumber:    serial,
		NotBefore:       notBefore,
		NotAfter:        notAfter,
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtKeyUsage:     []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		ExtraExtensions: exts,
	}
	if strings.Contains(f.identity, "://") {
		u, err := url.Parse(f.identity)
		if err != nil {
			return nil, fmt.Errorf("identity %q: %w", f.identity, err)
		}
		tmpl.URIs = []*url.URL{u}
	} else {
		tmpl.EmailAddresses = []string{f.identity}
	}
	// Precertificate TBS = the final certificate's TBS without the SCT list (RFC 6962 3.2);
	// Go appends ExtraExtensions last, so the certificate issued without it has exactly that TBS.
	pre, err := issue(tmpl, f.fulcioInter, &key.PublicKey, f.fulcioKey)
	if err != nil {
		return nil, err
	}
	sctExt, err := f.embeddedSCT(pre, notBefore)
	if err != nil {
		return nil, err
	}
	tmpl.ExtraExtensions = append(append([]pkix.Extension{}, exts...), sctExt)
	leaf, err := issue(tmpl, f.fulcioInter, &key.PublicKey, f.fulcioKey)
	if err != nil {
		return nil, err
	}
	// Prove the SCT verifies as CT verifiers (sigstore-go, sigstore-js) will check it.
	chain, err := ctx509.ParseCertificates(append(append([]byte{}, leaf.Raw...), f.fulcioInter.Raw...))
	if err != nil {
		return nil, err
	}
	scts, err := ctx509util.ParseSCTsFromCertificate(leaf.Raw)
	if err != nil || len(scts) != 1 {
		return nil, fmt.Errorf("embedded SCT not readable: %v", err)
	}
	if err := ctutil.VerifySCT(f.ctKey.Public(), chain, scts[0], true); err != nil {
		return nil, fmt.Errorf("embedded SCT does not verify: %w", err)
	}
	return leaf, nil
}

func (f *fixture) embeddedSCT(pre *x509.Certificate, at time.Time) (pkix.Extension, error) {
	sct := ct.SignedCertificateTimestamp{
		SCTVersion: ct.V1,
		LogID:      ct.LogID{KeyID: f.ctLogID},
		Timestamp:  uint64(at.UnixMilli()),
	}
	input, err := ct.SerializeSCTSignatureInput(sct, ct.LogEntry{Leaf: ct.MerkleTreeLeaf{
		Version:  ct.V1,
		LeafType: ct.TimestampedEntryLeafType,
		TimestampedEntry: &ct.TimestampedEntry{
			Timestamp: sct.Timestamp,
			EntryType: ct.PrecertLogEntryType,
			PrecertEntry: &ct.PreCert{
				IssuerKeyHash:  sha256.Sum256(f.fulcioInter.RawSubjectPublicKeyInfo),
				TBSCertificate: pre.RawTBSCertificate,
			},
		},
	}})
	if err != nil {
		return pkix.Extension{}, err
	}
	h := sha256.Sum256(input)
	sigBytes, err := ecdsa.SignASN1(rand.Reader, f.ctKey, h[:])
	if err != nil {
		return pkix.Extension{}, err
	}
	sct.Signature = ct.DigitallySigned{
		Algorithm: cttls.SignatureAndHashAlgorithm{Hash: cttls.SHA256, Signature: cttls.ECDSA},
		Signature: sigBytes,
	}
	list, err := ctx509util.MarshalSCTsIntoSCTList([]*ct.SignedCertificateTimestamp{&sct})
	if err != nil {
		return pkix.Extension{}, err
	}
	listBytes, err := cttls.Marshal(*list)
	if err != nil {
		return pkix.Extension{}, err
	}
	value, err := asn1.Marshal(listBytes)
	if err != nil {
		return pkix.Extension{}, err
	}
	return pkix.Extension{Id: asn1.ObjectIdentifier(ctx509.OIDExtensionCTSCT), Value: value}, nil
}

func issue(tmpl, parent *x509.Certificate, pub crypto.PublicKey, parentKey crypto.Signer) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// tamper copies a bundle and rewrites the subject digest inside its signed statement, leaving the
// signature, certificate and log entry as they were.
func tamper(b *protobundle.Bundle, from, to string) (*protobundle.Bundle, error) {
	raw, err := protojson.Marshal(b)
	if err != nil {
		return nil, err
	}
	var c protobundle.Bundle
	if err := protojson.Unmarshal(raw, &c); err != nil {
		return nil, err
	}
	env := c.GetDsseEnvelope()
	edited := bytes.Replace(env.Payload, []byte(from), []byte(to), 1)
	if bytes.Equal(edited, env.Payload) {
		return nil, errors.New("subject digest not found in the statement")
	}
	env.Payload = edited
	return &c, nil
}

// selfCheck verifies a bundle with sigstore-go as cosign v3 `verify` does for keyless
// (pkg/cosign CheckOpts.verificationOptions): SCT, transparency log, integrated time.
func selfCheck(tr *root.TrustedRoot, raw []byte, hexDigest, identity, issuer string) error {
	var b bundle.Bundle
	if err := b.UnmarshalJSON(raw); err != nil {
		return err
	}
	v, err := verify.NewVerifier(tr, verify.WithSignedCertificateTimestamps(1), verify.WithTransparencyLog(1), verify.WithIntegratedTimestamps(1))
	if err != nil {
		return err
	}
	id, err := verify.NewShortCertificateIdentity(issuer, "", identity, "")
	if err != nil {
		return err
	}
	d, _ := hex.DecodeString(hexDigest)
	_, err = v.Verify(&b, verify.NewPolicy(verify.WithArtifactDigest("sha256", d), verify.WithCertificateIdentity(id)))
	return err
}

// otherHex: a different, well-formed digest (the first hex digit changed).
func otherHex(h string) string {
	first := "0"
	if h[0] == '0' {
		first = "1"
	}
	return first + h[1:]
}

func writeJSON(path string, raw []byte) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return err
	}
	buf.WriteByte('\n')
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// --- cosign v2 keyless `sign` of an image (-simplesigning) ---------------------------------------

// simpleSigning is the payload cosign v2 signs (containers/image "simple signing", as sigstore's
// payload.Cosign marshals it: these fields in this order, optional null without -a).
type simpleSigning struct {
	Critical struct {
		Identity struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
	Optional map[string]any `json:"optional"`
}

// rekorBundle is the value of the dev.sigstore.cosign/bundle annotation (cosign v2 pkg/cosign/bundle
// RekorBundle marshalled with encoding/json: the SET as base64, the payload with lower-case keys).
type rekorBundle struct {
	SignedEntryTimestamp []byte
	Payload              tlog.RekorPayload
}

// Layer annotation keys of a cosign v2 signature (pkg/oci/static).
const (
	signatureAnnotation   = "dev.cosignproject.cosign/signature"
	certificateAnnotation = "dev.sigstore.cosign/certificate"
	chainAnnotation       = "dev.sigstore.cosign/chain"
	bundleAnnotation      = "dev.sigstore.cosign/bundle"
)

// signSimple makes what cosign v2 `sign` (keyless) pushes as one layer of the `sha256-<hex>.sig`
// image: the payload naming sha256:<hexDigest>, an ECDSA P-256/SHA-256 signature over it by a fresh
// key certified by "Fulcio", and the layer annotations: base64 signature, leaf certificate PEM,
// chain PEM (intermediate, root), and the Rekor bundle of a hashedrekord v0.0.1 entry.
func (f *fixture) signSimple(dockerRef, hexDigest string, notBefore, notAfter, integratedTime time.Time) ([]byte, map[string]string, error) {
	var p simpleSigning
	p.Critical.Identity.DockerReference = dockerRef
	p.Critical.Image.DockerManifestDigest = "sha256:" + hexDigest
	p.Critical.Type = "cosign container image signature"
	payload, err := json.Marshal(p)
	if err != nil {
		return nil, nil, err
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	leaf, err := f.leafCertificate(leafKey, notBefore, notAfter)
	if err != nil {
		return nil, nil, err
	}
	h := sha256.Sum256(payload)
	sig, err := ecdsa.SignASN1(rand.Reader, leafKey, h[:])
	if err != nil {
		return nil, nil, err
	}
	certPEM, err := cryptoutils.MarshalCertificateToPEM(leaf)
	if err != nil {
		return nil, nil, err
	}
	chainPEM, err := cryptoutils.MarshalCertificatesToPEM([]*x509.Certificate{f.fulcioInter, f.fulcioRoot})
	if err != nil {
		return nil, nil, err
	}
	ctx := context.Background()
	proposed, err := types.NewProposedEntry(ctx, hashedrekord.KIND, hashedrekordv001.APIVERSION, types.ArtifactProperties{
		ArtifactHash: "sha256:" + hex.EncodeToString(h[:]), PublicKeyBytes: [][]byte{certPEM}, PKIFormat: string(pki.X509), SignatureBytes: sig,
	})
	if err != nil {
		return nil, nil, err
	}
	impl, err := types.CreateVersionedEntry(proposed)
	if err != nil {
		return nil, nil, err
	}
	body, err := types.CanonicalizeEntry(ctx, impl)
	if err != nil {
		return nil, nil, err
	}
	const logIndex = 1
	set, err := f.signedEntryTimestamp(body, integratedTime, logIndex)
	if err != nil {
		return nil, nil, err
	}
	bundleJSON, err := json.Marshal(rekorBundle{SignedEntryTimestamp: set, Payload: f.rekorPayload(body, integratedTime, logIndex)})
	if err != nil {
		return nil, nil, err
	}
	return payload, map[string]string{
		signatureAnnotation:   base64.StdEncoding.EncodeToString(sig),
		certificateAnnotation: string(certPEM),
		chainAnnotation:       string(chainPEM),
		bundleAnnotation:      string(bundleJSON),
	}, nil
}

// writeSimpleSigning writes DIR/simplesigning/<variant>/{payload.json,annotations.json} for
// good (signed for the digest), wrong-subject (a valid signature over a payload naming another
// digest) and tampered (wrong-subject's payload edited to name the digest; signature and log entry
// unchanged). Returns, per variant, whether the signature verifies over the payload as written.
func (f *fixture) writeSimpleSigning(out, dockerRef, hexDigest, otherDigest string, now time.Time) (map[string]bool, error) {
	good, goodAnn, err := f.signSimple(dockerRef, hexDigest, now.Add(-time.Minute), now.Add(9*time.Minute), now)
	if err != nil {
		return nil, fmt.Errorf("simplesigning good: %w", err)
	}
	wrong, wrongAnn, err := f.signSimple(dockerRef, otherDigest, now.Add(-time.Minute), now.Add(9*time.Minute), now)
	if err != nil {
		return nil, fmt.Errorf("simplesigning wrong-subject: %w", err)
	}
	tampered := bytes.Replace(wrong, []byte(otherDigest), []byte(hexDigest), 1)
	checked := map[string]bool{}
	for _, v := range []struct {
		name    string
		payload []byte
		ann     map[string]string
	}{{"good", good, goodAnn}, {"wrong-subject", wrong, wrongAnn}, {"tampered", tampered, wrongAnn}} {
		dir := filepath.Join(out, "simplesigning", v.name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, "payload.json"), v.payload, 0o644); err != nil {
			return nil, err
		}
		ann, err := json.Marshal(v.ann)
		if err != nil {
			return nil, err
		}
		if err := writeJSON(filepath.Join(dir, "annotations.json"), ann); err != nil {
			return nil, err
		}
		ok, err := simpleSignatureVerifies(v.payload, v.ann)
		if err != nil {
			return nil, fmt.Errorf("simplesigning %s: %w", v.name, err)
		}
		checked[v.name] = ok
	}
	return checked, nil
}

// simpleSignatureVerifies: the signature annotation over the payload, with the certificate's key.
func simpleSignatureVerifies(payload []byte, ann map[string]string) (bool, error) {
	cert, err := cryptoutils.UnmarshalCertificatesFromPEM([]byte(ann[certificateAnnotation]))
	if err != nil || len(cert) != 1 {
		return false, fmt.Errorf("certificate annotation: %v", err)
	}
	sig, err := base64.StdEncoding.DecodeString(ann[signatureAnnotation])
	if err != nil {
		return false, err
	}
	pub, ok := cert[0].PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return false, errors.New("certificate key is not ECDSA")
	}
	h := sha256.Sum256(payload)
	return ecdsa.VerifyASN1(pub, h[:], sig), nil
}
