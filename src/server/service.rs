//! The tonic adapter for `smishd.v1.Classifier`: request -> [`Message`], [`Verdict`] ->
//! response, [`Failure`] -> `Status` (in [`status`], the one place). No decision is made here.
//!
//! A bad message of a ScoreBatch or ScoreStream (empty, over a size limit, not UTF-8) is
//! answered in its place by a response carrying a `MessageError`, and the call goes on: one bad
//! message never costs the others. Only what concerns the whole call (too many messages or
//! calls, a passed deadline, an engine not loaded yet) fails the call.
//!
//! Scoring is synchronous work of a few microseconds, so it runs inline on the runtime's worker:
//! handing each message to a blocking pool would cost more than scoring it. A large batch is
//! scored in chunks with a yield between them, so one batch cannot hold a worker for long and
//! its deadline is checked as it goes.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Instant;

use tokio_stream::Stream;
use tonic::{Code, Request, Response, Status, Streaming};

use super::calls::Reached;
use super::limits::{deadline, expired, Failure, Permit};
use super::metrics::{Method, Timer};
use super::proto::{self, ScoreBatchResponse, ScoreResponse};
use super::wire::server::classifier_server::{Classifier, ClassifierServer};
use super::wire::{ScoreBatchRequest, ScoreRequest};
use super::{Loaded, Shared};
use crate::engine::Message;
use crate::verdict::{round_score, Action, Verdict};

/// Messages scored between two yields in a batch: about a third of a millisecond of work.
const BATCH_CHUNK: usize = 64;

/// The service. Cheap to clone; all state is in [`Shared`].
#[derive(Clone)]
pub struct ClassifierService {
    shared: Arc<Shared>,
}

impl ClassifierService {
    pub fn new(shared: Arc<Shared>) -> Self {
        ClassifierService { shared }
    }

    /// The tonic server, with the decoded message size limit applied.
    pub fn into_server(self) -> ClassifierServer<Self> {
        let max = self.shared.limits.max_message_bytes;
        ClassifierServer::new(self).max_decoding_message_size(max)
    }

    /// Records a finished call and turns its failure into a Status.
    fn finish<T>(
        &self,
        method: Method,
        timer: &Timer,
        result: Result<T, Failure>,
    ) -> Result<Response<T>, Status> {
        let result = result.map_err(|f| status(&f));
        let code = match &result {
            Ok(_) => Code::Ok,
            Err(s) => s.code(),
        };
        let elapsed = timer.elapsed();
        self.shared.metrics.request(method, code, elapsed);
        tracing::debug!(
            method = method.as_str(),
            code = ?code,
            micros = elapsed.as_micros() as u64,
            "call finished"
        );
        result.map(Response::new)
    }

    fn score_unary(&self, request: Request<ScoreRequest>) -> Result<ScoreResponse, Failure> {
        let _permit = self.shared.admission.request()?;
        if expired(deadline(request.metadata(), Instant::now())) {
            return Err(Failure::DeadlineExceeded);
        }
        let loaded = self.shared.engine.load();
        let loaded = loaded.as_ref().ok_or(Failure::NotReady)?;
        score_one(loaded, &self.shared, request.into_inner(), None)
    }

    /// Scores one message of a batch or stream: a refusal becomes its response.
    fn score_in_place(
        &self,
        loaded: &Loaded,
        method: Method,
        request: ScoreRequest,
        index: usize,
    ) -> ScoreResponse {
        message_result(loaded, &self.shared, method, request, index)
    }

    async fn score_many(
        &self,
        request: Request<ScoreBatchRequest>,
    ) -> Result<ScoreBatchResponse, Failure> {
        let _permit = self.shared.admission.request()?;
        let deadline = deadline(request.metadata(), Instant::now());
        if expired(deadline) {
            return Err(Failure::DeadlineExceeded);
        }
        // One engine for the whole batch: every response names the same versions.
        let loaded = self.shared.engine.load_full().ok_or(Failure::NotReady)?;
        let requests = request.into_inner().requests;
        let limits = &self.shared.limits;
        limits.check_batch(requests.len())?;
        let mut responses = Vec::with_capacity(requests.len());
        let total = requests.len();
        for (i, r) in requests.into_iter().enumerate() {
            if i > 0 && i % BATCH_CHUNK == 0 {
                tokio::task::yield_now().await;
                if expired(deadline) {
                    return Err(Failure::DeadlineExceeded);
                }
            }
            responses.push(self.score_in_place(&loaded, Method::ScoreBatch, r, i));
        }
        debug_assert_eq!(responses.len(), total);
        Ok(ScoreBatchResponse { responses })
    }

    fn open_stream(&self, request: &Request<Streaming<ScoreRequest>>) -> Result<Permit, Failure> {
        let permit = self.shared.admission.stream()?;
        if expired(deadline(request.metadata(), Instant::now())) {
            return Err(Failure::DeadlineExceeded);
        }
        if self.shared.engine.load().is_none() {
            return Err(Failure::NotReady);
        }
        Ok(permit)
    }
}

#[tonic::async_trait]
impl Classifier for ClassifierService {
    async fn score(
        &self,
        request: Request<ScoreRequest>,
    ) -> Result<Response<ScoreResponse>, Status> {
        let timer = Timer::start();
        Reached::mark(request.extensions());
        let result = self.score_unary(request);
        self.finish(Method::Score, &timer, result)
    }

    async fn score_batch(
        &self,
        request: Request<ScoreBatchRequest>,
    ) -> Result<Response<ScoreBatchResponse>, Status> {
        let timer = Timer::start();
        Reached::mark(request.extensions());
        let result = self.score_many(request).await;
        self.finish(Method::ScoreBatch, &timer, result)
    }

    type ScoreStreamStream = ScoreStream;

    async fn score_stream(
        &self,
        request: Request<Streaming<ScoreRequest>>,
    ) -> Result<Response<ScoreStream>, Status> {
        let timer = Timer::start();
        Reached::mark(request.extensions());
        let permit = match self.open_stream(&request) {
            Ok(p) => p,
            Err(f) => return self.finish(Method::ScoreStream, &timer, Err(f)),
        };
        self.shared.metrics.stream_opened();
        Ok(Response::new(ScoreStream {
            inbound: request.into_inner(),
            shared: self.shared.clone(),
            permit: Some(permit),
            timer,
            index: 0,
            done: false,
        }))
    }
}

/// The response side of one ScoreStream: scores each request as it arrives, so responses come
/// back in request order with no task or channel in between. Holds its concurrency permit until
/// it ends; the call is recorded in the metrics when it ends or is dropped.
pub struct ScoreStream {
    inbound: Streaming<ScoreRequest>,
    shared: Arc<Shared>,
    permit: Option<Permit>,
    timer: Timer,
    index: usize,
    done: bool,
}

impl ScoreStream {
    fn end(&mut self, code: Code) {
        self.done = true;
        self.permit = None;
        self.shared.metrics.stream_closed();
        let elapsed = self.timer.elapsed();
        self.shared
            .metrics
            .request(Method::ScoreStream, code, elapsed);
        tracing::debug!(
            method = Method::ScoreStream.as_str(),
            code = ?code,
            messages = self.index,
            micros = elapsed.as_micros() as u64,
            "stream finished"
        );
    }
}

impl Stream for ScoreStream {
    type Item = Result<ScoreResponse, Status>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        match ready!(Pin::new(&mut this.inbound).poll_next(cx)) {
            None => {
                this.end(Code::Ok);
                Poll::Ready(None)
            }
            Some(Err(s)) => {
                // The request stream itself failed: a frame over max_message_bytes, bytes that
                // are not protobuf, or the transport. The stream cannot go on past it.
                let s = decode_status(s);
                this.end(s.code());
                Poll::Ready(Some(Err(s)))
            }
            Some(Ok(request)) => {
                let index = this.index;
                this.index += 1;
                this.shared.metrics.stream_message();
                // Loaded per message: a long stream moves to a reloaded engine as soon as it is
                // in, and each response names the versions that produced it.
                match this.shared.engine.load().as_ref() {
                    Some(l) => Poll::Ready(Some(Ok(message_result(
                        l,
                        &this.shared,
                        Method::ScoreStream,
                        request,
                        index,
                    )))),
                    None => {
                        // Never after the stream opened (an engine is never unloaded).
                        let s = status(&Failure::NotReady);
                        this.end(s.code());
                        Poll::Ready(Some(Err(s)))
                    }
                }
            }
        }
    }
}

impl Drop for ScoreStream {
    fn drop(&mut self) {
        if !self.done {
            // The client went away (or the server closed the stream) before the end.
            self.end(Code::Cancelled);
        }
    }
}

/// One message of a batch or stream: its verdict, or a response that carries only its id (when
/// that is acceptable) and the refusal. Refusals are counted by method and code.
fn message_result(
    loaded: &Loaded,
    shared: &Shared,
    method: Method,
    request: ScoreRequest,
    index: usize,
) -> ScoreResponse {
    let id = request.echo_id(&shared.limits);
    match score_one(loaded, shared, request, Some(index)) {
        Ok(r) => r,
        Err(f) => {
            let code = f.code();
            shared.metrics.message_refused(method, code);
            ScoreResponse {
                id,
                error: Some(proto::MessageError {
                    code: code as i32,
                    reason: f.reason(),
                }),
                ..ScoreResponse::default()
            }
        }
    }
}

fn score_one(
    loaded: &Loaded,
    shared: &Shared,
    request: ScoreRequest,
    index: Option<usize>,
) -> Result<ScoreResponse, Failure> {
    let request = request.check(&shared.limits, index)?;
    let msg = Message::new(&request.text).with_sender(Some(&request.sender));
    // A bug in the engine must cost one call, not the connection and every call multiplexed on
    // it. catch_unwind is free when nothing panics; the engine holds no state a panic could
    // leave half-changed (it is immutable), so unwinding past it is safe.
    let verdict = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        loaded.score(&msg, &shared.metrics, shared.campaigns.as_deref())
    }))
    .map_err(|_| Failure::Internal)?;
    Ok(response(request.id, verdict))
}

/// Every failure's Status, in one place. Messages name the limit and the size, never the text.
pub fn status(f: &Failure) -> Status {
    Status::new(f.code(), f.reason())
}

/// A failure of the request stream as the client should see it: tonic reports a message over
/// the decoding limit as OUT_OF_RANGE, but it is a size limit (RESOURCE_EXHAUSTED).
pub fn decode_status(s: Status) -> Status {
    if s.code() == Code::OutOfRange {
        Status::resource_exhausted(format!("{} (max_message_bytes)", s.message()))
    } else {
        s
    }
}

/// A verdict as the contract's response. `score` is rounded to four places as in the JSON.
pub fn response(id: String, v: Verdict) -> ScoreResponse {
    let offset = |o: usize| u32::try_from(o).unwrap_or(u32::MAX);
    ScoreResponse {
        id,
        verdict: v.verdict.as_str().to_string(),
        category: v.category.as_str().to_string(),
        score: round_score(v.score),
        hits: v
            .hits
            .into_iter()
            .map(|h| proto::Hit {
                rule: h.rule,
                category: h.category.as_str().to_string(),
                weight: h.weight,
                start: offset(h.span.start),
                end: offset(h.span.end),
                text: h.text,
                negated: h.negated,
            })
            .collect(),
        urls: v
            .urls
            .into_iter()
            .map(|u| proto::UrlFinding {
                raw: u.raw,
                start: offset(u.span.start),
                end: offset(u.span.end),
                url: u.url,
                host: u.host,
                registrable_domain: u.registrable_domain,
                reputation: u.reputation.as_str().to_string(),
                reasons: u.reasons.iter().map(|r| r.to_string()).collect(),
            })
            .collect(),
        ruleset: v.ruleset,
        model: v.model,
        action: match v.verdict {
            Action::Allow => proto::Action::Allow,
            Action::Flag => proto::Action::Flag,
            Action::Block => proto::Action::Block,
        } as i32,
        error: None,
        campaign: v.campaign.map(|c| proto::Campaign {
            id: crate::campaign::id_hex(c.id),
            size: c.size,
            senders: c.senders,
        }),
    }
}
