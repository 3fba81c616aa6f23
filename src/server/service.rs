//! The tonic adapter for `smishd.v1.Classifier`: request -> [`Message`], [`Verdict`] ->
//! response, [`Failure`] -> `Status` (in [`status`], the one place). No decision is made here.
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

use super::limits::{deadline, expired, Failure, Permit};
use super::metrics::{Method, Timer};
use super::proto::classifier_server::{Classifier, ClassifierServer};
use super::proto::{self, ScoreBatchRequest, ScoreBatchResponse, ScoreRequest, ScoreResponse};
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
        // Refuse a bad batch whole before scoring any of it.
        for (i, r) in requests.iter().enumerate() {
            limits.check_text(&r.text, Some(i))?;
        }
        let mut responses = Vec::with_capacity(requests.len());
        let total = requests.len();
        for (i, r) in requests.into_iter().enumerate() {
            if i > 0 && i % BATCH_CHUNK == 0 {
                tokio::task::yield_now().await;
                if expired(deadline) {
                    return Err(Failure::DeadlineExceeded);
                }
            }
            responses.push(score_one(&loaded, &self.shared, r, Some(i))?);
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
        let result = self.score_unary(request);
        self.finish(Method::Score, &timer, result)
    }

    async fn score_batch(
        &self,
        request: Request<ScoreBatchRequest>,
    ) -> Result<Response<ScoreBatchResponse>, Status> {
        let timer = Timer::start();
        let result = self.score_many(request).await;
        self.finish(Method::ScoreBatch, &timer, result)
    }

    type ScoreStreamStream = ScoreStream;

    async fn score_stream(
        &self,
        request: Request<Streaming<ScoreRequest>>,
    ) -> Result<Response<ScoreStream>, Status> {
        let timer = Timer::start();
        let permit = match self.open_stream(&request) {
            Ok(p) => p,
            Err(f) => return self.finish(Method::ScoreStream, &timer, Err(f)),
        };
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
                this.end(s.code());
                Poll::Ready(Some(Err(s)))
            }
            Some(Ok(request)) => {
                let index = this.index;
                this.index += 1;
                this.shared.metrics.stream_message();
                // Loaded per message: a long stream moves to a reloaded engine as soon as it is
                // in, and each response names the versions that produced it.
                let loaded = this.shared.engine.load();
                let result = match loaded.as_ref() {
                    Some(l) => score_one(l, &this.shared, request, Some(index)),
                    None => Err(Failure::NotReady),
                };
                match result {
                    Ok(r) => Poll::Ready(Some(Ok(r))),
                    Err(f) => {
                        let s = status(&f);
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

fn score_one(
    loaded: &Loaded,
    shared: &Shared,
    request: ScoreRequest,
    index: Option<usize>,
) -> Result<ScoreResponse, Failure> {
    shared.limits.check_text(&request.text, index)?;
    let msg = Message::new(&request.text).with_sender(Some(&request.sender));
    // A bug in the engine must cost one call, not the connection and every call multiplexed on
    // it. catch_unwind is free when nothing panics; the engine holds no state a panic could
    // leave half-changed (it is immutable), so unwinding past it is safe.
    let verdict = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        loaded.score(&msg, &shared.metrics)
    }))
    .map_err(|_| Failure::Internal)?;
    Ok(response(request.id, verdict))
}

/// Every failure's Status, in one place. Messages name the limit and the size, never the text.
pub fn status(f: &Failure) -> Status {
    let at = |index: &Option<usize>| match index {
        Some(i) => format!("message {i}: "),
        None => String::new(),
    };
    match f {
        Failure::EmptyText { index } => {
            Status::invalid_argument(format!("{}text is empty", at(index)))
        }
        Failure::TextTooLong {
            index,
            bytes,
            limit,
        } => Status::invalid_argument(format!(
            "{}text is {bytes} bytes, over the limit of {limit} bytes (max_text_bytes)",
            at(index)
        )),
        Failure::BatchTooLarge { size, limit } => Status::resource_exhausted(format!(
            "batch of {size} messages is over the limit of {limit} (max_batch)"
        )),
        Failure::TooManyRequests { limit } => Status::resource_exhausted(format!(
            "{limit} calls already in flight (max_concurrent_requests); retry later"
        )),
        Failure::TooManyStreams { limit } => Status::resource_exhausted(format!(
            "{limit} streams already open (max_concurrent_streams); retry later"
        )),
        Failure::DeadlineExceeded => {
            Status::deadline_exceeded("deadline exceeded before scoring finished")
        }
        Failure::NotReady => Status::unavailable("engine not loaded yet; retry"),
        Failure::Internal => Status::internal("scoring failed (a bug, logged without the text)"),
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
                start: offset(h.start),
                end: offset(h.end),
                text: h.text,
                negated: h.negated,
            })
            .collect(),
        urls: v
            .urls
            .into_iter()
            .map(|u| proto::UrlFinding {
                raw: u.raw,
                start: offset(u.start),
                end: offset(u.end),
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
    }
}
