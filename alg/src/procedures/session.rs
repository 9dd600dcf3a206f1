//! The session state machine.

use super::*;

#[derive(Debug)]
pub(crate) struct Inner {
    cfg: SessionConfig,
    tls_ids: TlsIdAllocator,
}

impl Inner {
    pub(crate) fn new(cfg: SessionConfig, tls_ids: TlsIdAllocator) -> Self {
        Inner { cfg, tls_ids }
    }
    pub(crate) fn handle_offer(
        &mut self,
        _from: Side,
        _sdp: Sdp,
        _now: Instant,
    ) -> Result<(), ProcedureError> {
        let _ = (&self.cfg, &self.tls_ids);
        Err(ProcedureError::Released)
    }
    pub(crate) fn handle_answer(
        &mut self,
        from: Side,
        _sdp: Sdp,
        _now: Instant,
    ) -> Result<(), ProcedureError> {
        Err(ProcedureError::UnexpectedAnswer(from))
    }
    pub(crate) fn handle_iq_reply(
        &mut self,
        token: TxToken,
        _o: IqOutcome,
        _now: Instant,
    ) -> Result<(), ProcedureError> {
        Err(ProcedureError::UnknownToken(token))
    }
    pub(crate) fn handle_notify(&mut self, _n: &NotifyRequest, _now: Instant) -> NotifyOutcome {
        NotifyOutcome::Ignored
    }
    pub(crate) fn release(&mut self, _now: Instant) {}
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        None
    }
    pub(crate) fn handle_timeout(&mut self, _now: Instant) {}
    pub(crate) fn poll_output(&mut self) -> Option<Output> {
        None
    }
    pub(crate) fn context(&self) -> Option<u32> {
        None
    }
    pub(crate) fn termination(&self, _side: Side) -> Option<&TerminationId> {
        None
    }
    pub(crate) fn phase(&self) -> Phase {
        Phase::Idle
    }
    pub(crate) fn dtls_role(&self, _m: usize) -> Option<DtlsRole> {
        None
    }
    pub(crate) fn alg_tls_id(&self, _m: usize) -> Option<&TlsId> {
        None
    }
}
