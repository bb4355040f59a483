//! The TLS client of each `sslmode`, as libpq verifies: nothing without a root certificate, the
//! chain only (`verify-ca`, and `allow`/`prefer`/`require` when a root certificate file exists),
//! or the chain and the host name (`verify-full`).

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{WebPkiServerVerifier, verify_server_cert_signed_by_trust_anchor};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::{CaError, SetupError};

/// What a TLS connection verifies of the server's certificate.
#[derive(Debug, Clone)]
pub(crate) enum Verify {
    /// Nothing: encryption without authentication (libpq's `require` without a root file).
    Nothing,
    /// That the chain leads to one of the roots, whatever the name (`verify-ca`).
    Chain(Arc<RootCertStore>),
    /// The chain and that the certificate names the host connected to (`verify-full`).
    ChainAndName(Arc<RootCertStore>),
}

/// The TLS client configuration that verifies as `verify` says.
pub(crate) fn client_config(verify: &Verify) -> Result<rustls::ClientConfig, SetupError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let algorithms = provider.signature_verification_algorithms;
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(SetupError::Tls)?;
    let verifier: Arc<dyn ServerCertVerifier> = match verify {
        Verify::Nothing => Arc::new(WithoutName {
            roots: None,
            algorithms,
        }),
        Verify::Chain(roots) => Arc::new(WithoutName {
            roots: Some(Arc::clone(roots)),
            algorithms,
        }),
        Verify::ChainAndName(roots) => full(roots, provider)?,
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

fn full(
    roots: &Arc<RootCertStore>,
    provider: Arc<CryptoProvider>,
) -> Result<Arc<dyn ServerCertVerifier>, SetupError> {
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::clone(roots), provider)
        .build()
        .map_err(SetupError::Verifier)?;
    Ok(verifier)
}

/// Checks the chain against the roots, if any are given, but never the name; the handshake's
/// signatures are always checked against the certificate.
#[derive(Debug)]
struct WithoutName {
    roots: Option<Arc<RootCertStore>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for WithoutName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(roots) = &self.roots {
            let certificate = ParsedCertificate::try_from(end_entity)?;
            verify_server_cert_signed_by_trust_anchor(
                &certificate,
                roots,
                intermediates,
                now,
                self.algorithms.all,
            )?;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The certificates of a PEM file (libpq's `sslrootcert`).
pub(crate) fn read_roots(bytes: &[u8]) -> Result<RootCertStore, CaError> {
    use rustls::pki_types::pem::PemObject as _;
    let mut roots = RootCertStore::empty();
    for certificate in CertificateDer::pem_slice_iter(bytes) {
        let certificate = certificate.map_err(CaError::Pem)?;
        roots.add(certificate).map_err(CaError::Certificate)?;
    }
    if roots.is_empty() {
        return Err(CaError::Empty);
    }
    Ok(roots)
}
