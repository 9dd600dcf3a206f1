%% megaco_peer_codec.erl -- a megaco_encoder that wraps the real one
%% (megaco_pretty_text_encoder, megaco_compact_text_encoder or
%% megaco_binary_encoder, chosen by megaco_peer:start/2) and reports every
%% message it encodes or decodes to the transcript (megaco_peer:tap/3).
%%
%% megaco calls encode_message/3 for everything a peer sends (requests,
%% replies, pendings, acks: megaco_messenger_misc:encode_body/3) and
%% decode_message/3 once for every message received
%% (megaco_messenger:prepare_message/5), so the transcript is the wire
%% seen from this peer.  megaco encodes a retransmitted request again, so
%% it shows as another SEND line; a retransmitted reply reuses its bytes
%% and is not shown; whatever is received is shown, duplicates included.
%% The peers use v3 records only; to_version/2 resizes them for the
%% version megaco encodes or decoded (see megaco_peer).
%%
%% Replies are encoded first on their own with encode_transaction/3 (megaco
%% keeps the bytes for retransmission) and then put into a message as
%% bytes; encode_transaction/3 remembers them so the tap can still say what
%% they were.  encode_action_requests/3 is only used by megaco's
%% transaction sender (trans_req / trans_ack), which the peers leave off.

-module(megaco_peer_codec).
-behaviour(megaco_encoder).

-export([encode_message/3, decode_message/3, decode_mini_message/3,
         encode_transaction/3, encode_action_requests/3, encode_action_request/3,
         encode_action_reply/3, version_of/2]).

inner() -> persistent_term:get({megaco_peer, inner}).

encode_message(EC, V, Msg) ->
    case (inner()):encode_message(EC, V, megaco_peer:to_version(Msg, V)) of
        {ok, Bin} = Ok ->
            megaco_peer:tap(send, Msg, Bin),
            Ok;
        Error ->
            megaco_peer:tap_error(send, Error, undefined),
            Error
    end.

decode_message(EC, V, Bin) ->
    case catch (inner()):decode_message(EC, V, Bin) of
        {ok, Msg0} ->
            Msg = megaco_peer:to_version(Msg0, 3),
            megaco_peer:tap(recv, Msg, Bin),
            {ok, Msg};
        Error ->
            megaco_peer:tap_error(recv, Error, Bin),
            Error
    end.

decode_mini_message(EC, V, Bin) -> (inner()):decode_mini_message(EC, V, Bin).
encode_transaction(EC, V, T) ->
    case (inner()):encode_transaction(EC, V, megaco_peer:to_version(T, V)) of
        {ok, Bin} = Ok ->
            megaco_peer:remember_encoded(T, Bin),
            Ok;
        Error ->
            Error
    end.
encode_action_requests(EC, V, ARs) ->
    (inner()):encode_action_requests(EC, V, megaco_peer:to_version(ARs, V)).
encode_action_request(EC, V, AR) ->
    (inner()):encode_action_request(EC, V, megaco_peer:to_version(AR, V)).
encode_action_reply(EC, V, AR) ->
    (inner()):encode_action_reply(EC, V, megaco_peer:to_version(AR, V)).
version_of(EC, Bin) -> (inner()):version_of(EC, Bin).
