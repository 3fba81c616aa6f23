//! A tower layer around every gRPC call the server answers (classifier, health, reflection).
//!
//! - It counts the call in flight, on the server and on its connection (so the connection's
//!   idle timer knows a call is open), until the response body is finished or dropped.
//! - It sees the refusals tonic makes before a call reaches the classifier service (a request
//!   over `max_message_bytes`, bytes that are not protobuf), counts them in
//!   `smishd_requests_total` by method and code like every other call, and answers an
//!   oversized request with RESOURCE_EXHAUSTED (tonic says OUT_OF_RANGE; the limit is a size
//!   limit).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::task::{Context, Poll};

use http_body::Frame;
use tonic::body::Body;
use tonic::codegen::{http, Bytes, Service};
use tonic::transport::server::TlsConnectInfo;
use tonic::Code;

use super::conn::{Activity, ConnInfo};
use super::metrics::{Method, Metrics, Timer};

/// The layer: `Server::builder().layer(CallLayer::new(metrics))`.
#[derive(Clone)]
pub struct CallLayer {
    metrics: Arc<Metrics>,
}

impl CallLayer {
    pub fn new(metrics: Arc<Metrics>) -> Self {
        CallLayer { metrics }
    }
}

impl<S> tower_layer::Layer<S> for CallLayer {
    type Service = Calls<S>;

    fn layer(&self, inner: S) -> Calls<S> {
        Calls {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

/// The service the layer wraps around the router.
#[derive(Clone)]
pub struct Calls<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

/// Put in each request's extensions; the classifier service marks it when the call reaches it,
/// so a refusal made before (by tonic's decoding) is counted here, and only those.
#[derive(Clone, Default)]
pub struct Reached(Arc<AtomicBool>);

impl Reached {
    pub fn mark(extensions: &http::Extensions) {
        if let Some(r) = extensions.get::<Reached>() {
            r.0.store(true, Relaxed);
        }
    }
}

impl<S> Service<http::Request<Body>> for Calls<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        let method = method_of(request.uri().path());
        let reached = Reached::default();
        request.extensions_mut().insert(reached.clone());
        let guard = CallGuard::new(self.metrics.clone(), activity(request.extensions()));
        let timer = Timer::start();
        let metrics = self.metrics.clone();
        // The usual tower dance: the clone that was made ready is the one called.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let mut response = inner.call(request).await?;
            if let Some(method) = method {
                if !reached.0.load(Relaxed) {
                    if let Some(code) = early_refusal(&mut response) {
                        metrics.request(method, code, timer.elapsed());
                    }
                }
            }
            Ok(response.map(|body| {
                Body::new(Guarded {
                    inner: body,
                    _guard: guard,
                })
            }))
        })
    }
}

fn method_of(path: &str) -> Option<Method> {
    match path.strip_prefix("/smishd.v1.Classifier/")? {
        "Score" => Some(Method::Score),
        "ScoreBatch" => Some(Method::ScoreBatch),
        "ScoreStream" => Some(Method::ScoreStream),
        _ => None,
    }
}

fn activity(extensions: &http::Extensions) -> Option<Arc<Activity>> {
    extensions
        .get::<ConnInfo>()
        .or_else(|| {
            extensions
                .get::<TlsConnectInfo<ConnInfo>>()
                .map(|t| t.get_ref())
        })
        .map(|c| c.activity.clone())
}

/// The code of a trailers-only error response (a call refused before it started), with
/// OUT_OF_RANGE from the size check rewritten to RESOURCE_EXHAUSTED.
fn early_refusal(response: &mut http::Response<Body>) -> Option<Code> {
    let headers = response.headers_mut();
    let code = Code::from_bytes(headers.get("grpc-status")?.as_bytes());
    if code == Code::Ok {
        return None;
    }
    if code == Code::OutOfRange {
        headers.insert(
            "grpc-status",
            http::HeaderValue::from(Code::ResourceExhausted as i32),
        );
        return Some(Code::ResourceExhausted);
    }
    Some(code)
}

/// Holds a call open in the counts until dropped.
struct CallGuard {
    metrics: Arc<Metrics>,
    activity: Option<Arc<Activity>>,
}

impl CallGuard {
    fn new(metrics: Arc<Metrics>, activity: Option<Arc<Activity>>) -> Self {
        metrics.call_started();
        if let Some(a) = &activity {
            a.call_started();
        }
        CallGuard { metrics, activity }
    }
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        self.metrics.call_ended();
        if let Some(a) = &self.activity {
            a.call_ended();
        }
    }
}

/// A response body that keeps its call counted until it is finished or dropped.
struct Guarded {
    inner: Body,
    _guard: CallGuard,
}

impl http_body::Body for Guarded {
    type Data = Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, tonic::Status>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_by_path() {
        assert_eq!(
            method_of("/smishd.v1.Classifier/ScoreBatch"),
            Some(Method::ScoreBatch)
        );
        assert_eq!(method_of("/grpc.health.v1.Health/Check"), None);
        assert_eq!(method_of("/smishd.v1.Classifier/Nope"), None);
    }

    #[test]
    fn oversized_becomes_resource_exhausted() {
        let mut r = tonic::Status::out_of_range("too big").into_http::<Body>();
        assert_eq!(early_refusal(&mut r), Some(Code::ResourceExhausted));
        assert_eq!(r.headers()["grpc-status"], "8");
        let mut ok = http::Response::new(Body::empty());
        assert_eq!(early_refusal(&mut ok), None);
    }
}
