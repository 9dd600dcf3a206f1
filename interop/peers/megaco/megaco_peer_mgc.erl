%% megaco_peer_mgc.erl -- Erlang/OTP megaco as a scripted H.248 MGC for
%% interop tests.  Started by megaco_mgc.escript; usage in usage/0 and
%% README.md.
%%
%% It listens (megaco_tcp or megaco_udp), accepts one MG registration
%% (ServiceChange on ROOT; the reply carries the negotiated Version), then
%% runs a scenario of steps against that MG (default: add, modify,
%% wait_notify, audit_root, audit_term, subtract), answering the MG's
%% Notify requests as they come.  Every transaction on the wire is printed
%% by the tap (megaco_peer_codec); own lines are "MGC INFO ...",
%% "MGC STEP <n> <step> OK|FAIL ..." and the final "MGC DONE ...".
%% Exit status 0 iff every step succeeded.

-module(megaco_peer_mgc).
-behaviour(megaco_user).

-include_lib("megaco/include/megaco.hrl").
-include_lib("megaco/include/megaco_message_v3.hrl").

-export([main/1]).
-export([handle_connect/2, handle_disconnect/3, handle_syntax_error/3,
         handle_message_error/3, handle_trans_request/3,
         handle_trans_long_request/3, handle_trans_reply/4, handle_trans_ack/4,
         handle_unexpected_trans/3, handle_trans_request_abort/4]).

-define(MAIN, megaco_peer_mgc_main).
-define(CFG, {?MODULE, cfg}).
-define(STEP, {?MODULE, step}).
-define(RID, 1001).

usage() ->
    "usage: megaco_mgc.escript --listen PORT [--transport tcp|udp]\n"
    "           [--encoding text|compact|binary] [--mid MID] [--expect-mid MID]\n"
    "           [--script FILE] [--log FILE] [--bind ADDR] [--version N]\n"
    "           [--sdp-ip ADDR] [--remote-port N] [--register-timeout SECS]\n"
    "           [--request-timeout SECS] [--notify-timeout SECS] [--timeout SECS]\n"
    "           [--linger SECS] [--verbose]\n"
    "Defaults: tcp, text, --mid <mgc1.example.net>, --bind 0.0.0.0, version 3 (the highest\n"
    "it accepts), --sdp-ip 127.0.0.1, --remote-port 40000, --register-timeout 10,\n"
    "--request-timeout 3, --notify-timeout 3, --timeout 30, --linger 0.\n"
    "Default scenario: add, modify, wait_notify, audit_root, audit_term, subtract.\n"
    "Exit status: 0 = every step OK; 1 = a step failed; 2 = usage error.  See README.md.\n".

spec() ->
    [{"--listen", listen, int},
     {"--transport", transport, {enum, ["tcp", "udp"]}},
     {"--encoding", encoding, {enum, ["text", "compact", "binary"]}},
     {"--mid", mid, string},
     {"--expect-mid", expect_mid, string},
     {"--script", script, string},
     {"--log", log, string},
     {"--bind", bind, string},
     {"--version", version, int},
     {"--sdp-ip", sdp_ip, string},
     {"--remote-port", remote_port, int},
     {"--register-timeout", register_timeout, secs},
     {"--request-timeout", request_timeout, secs},
     {"--notify-timeout", notify_timeout, secs},
     {"--timeout", timeout, secs},
     {"--linger", linger, secs},
     {"--verbose", verbose, flag}].

default_scenario() ->
    [add, modify, wait_notify, audit_root, audit_term, subtract].

%%======================================================================
%% main
%%======================================================================

main(Args) ->
    Cli = megaco_peer:parse_args(Args, spec(), usage()),
    Steps = read_script(maps:get(script, Cli, undefined)),
    Defaults = #{transport => tcp, encoding => text, mid => "<mgc1.example.net>",
                 version => 3, sdp_ip => "127.0.0.1", remote_port => 40000,
                 register_timeout => 10000, request_timeout => 3000,
                 notify_timeout => 3000, timeout => 30000, linger => 0,
                 verbose => false, bind => "0.0.0.0"},
    Opts = maps:merge(Defaults, Cli),
    maps:is_key(listen, Opts) orelse megaco_peer:usage_exit(usage(), "--listen PORT is required"),
    megaco_peer:start("MGC", Opts),
    Mid = megaco_peer:parse_mid(maps:get(mid, Opts)),
    Cfg = Opts#{mid_rec => Mid, user_mod => ?MODULE},
    persistent_term:put(?CFG, Cfg),
    persistent_term:put(?STEP, "register"),
    register(?MAIN, self()),
    megaco_peer:set_hook(fun hook/2),
    watchdog(maps:get(timeout, Opts)),
    ok = megaco:start_user(Mid, megaco_peer:user_config(Cfg)),
    listen(Cfg),
    megaco_peer:line("MGC INFO listening transport=~s encoding=~s port=~w mid=~s",
                     [maps:get(transport, Cfg), maps:get(encoding, Cfg), maps:get(listen, Cfg),
                      megaco_peer:mid_str(Mid)]),
    S0 = #{n => 1, ctx => undefined, terms => [], rid => undefined, cfg => Cfg},
    S1 = wait_registration(S0),
    S2 = lists:foldl(fun run_step/2, S1, Steps),
    close(S2),
    megaco_peer:line("MGC DONE OK steps=~w", [maps:get(n, S2) - 1]),
    megaco_peer:finish(0).

%% Script file: Erlang terms, one step per term ending in ".":
%%   add | {add, Opts}            Opts: context => new | current,
%%                                term => "$" | "a/b", sdp => bool,
%%                                mode => recvOnly | sendRecv | ...
%%   modify | {modify, Opts}      term => last | "a/b", sdp => bool (Remote),
%%                                mode => ..., events => bool | ["pkg/ev"]
%%   wait_notify | {wait_notify, Secs}
%%   audit_root | {audit_root, Opts}  tokens => [packagesToken, ...]
%%   audit_term | {audit_term, Opts}  term => last | "a/b", tokens => [...]
%%   subtract | {subtract, Opts}  term => last | all | "a/b", stats => bool
%%   {service_change, Method, "Reason"}   MGC -> MG on ROOT
%%   {sleep, Secs}
%% Every Opts map may have expect => ok | {error, Code}.
read_script(undefined) ->
    default_scenario();
read_script(File) ->
    case megaco_peer:consult(File) of
        {ok, Terms} -> Terms;
        {error, E} ->
            megaco_peer:usage_exit(usage(), io_lib:format("cannot read script ~s: ~p", [File, E]))
    end.

watchdog(Ms) ->
    spawn(fun() ->
                  timer:sleep(Ms),
                  megaco_peer:line("MGC DONE FAIL step=~s reason=timeout",
                                   [persistent_term:get(?STEP)]),
                  megaco_peer:finish(1)
          end).

listen(#{mid_rec := Mid, transport := tcp, listen := Port, bind := Bind}) ->
    RH = megaco:user_info(Mid, receive_handle),
    {ok, Sup} = megaco_tcp:start_transport(),
    case megaco_tcp:listen(Sup, [{port, Port}, {receive_handle, RH},
                                 {tcp_options, [{ip, megaco_peer:parse_host(Bind)}]}]) of
        ok -> ok;
        {error, R} -> fail("listen", {listen_failed, R})
    end;
listen(#{mid_rec := Mid, transport := udp, listen := Port, bind := Bind}) ->
    RH = megaco:user_info(Mid, receive_handle),
    {ok, Sup} = megaco_udp:start_transport(),
    case megaco_udp:open(Sup, [{port, Port}, {receive_handle, RH},
                               {udp_options, [{ip, megaco_peer:parse_host(Bind)}]}]) of
        {ok, _SH, _Ctrl} -> ok;
        {error, R} -> fail("listen", {listen_failed, R})
    end.

close(#{ch := CH, cfg := #{transport := T, linger := Linger}}) ->
    timer:sleep(Linger),
    case T of
        tcp ->
            SH = megaco:conn_info(CH, send_handle),
            megaco:disconnect(CH, scenario_done),
            megaco_tcp:close(SH);
        udp ->
            ok
    end.

fail(Step, Reason) ->
    megaco_peer:line("MGC DONE FAIL step=~s reason=~s", [Step, megaco_peer:short(Reason)]),
    megaco_peer:finish(1).

hook(send, Sums) ->
    case [S || #{kind := "Reply", cmds := Cmds} = S <- Sums, lists:member("ServiceChange", Cmds)] of
        [] -> ok;
        _ -> ?MAIN ! sc_reply_sent
    end;
hook(_, _) -> ok.

%%----------------------------------------------------------------------
%% Steps
%%----------------------------------------------------------------------

wait_registration(#{cfg := #{register_timeout := T}} = S) ->
    receive
        {registered, CH, MidStr, Ver, Method} ->
            receive sc_reply_sent -> ok after 1000 -> ok end,
            timer:sleep(20),         % let the reply reach the MG first
            step_ok(S#{ch => CH}, "register",
                    [{"mid", MidStr}, {"ver", Ver}, {"method", Method}]);
        {register_rejected, MidStr} ->
            receive sc_reply_sent -> timer:sleep(100) after 1000 -> ok end,
            fail("register", {unexpected_mid, MidStr})
    after T ->
            fail("register", no_registration)
    end.

run_step(Step, S) ->
    {Name, Opts} = case Step of
                       {N, O} when is_atom(N), is_map(O) -> {N, O};
                       {wait_notify, Secs} -> {wait_notify, #{timeout => Secs}};
                       {sleep, Secs} -> {sleep, #{secs => Secs}};
                       {service_change, M, R} -> {service_change, #{method => M, reason => R}};
                       N when is_atom(N) -> {N, #{}};
                       _ -> fail("script", {bad_step, Step})
                   end,
    persistent_term:put(?STEP, atom_to_list(Name)),
    step(Name, Opts, S).

step(add, O, #{ctx := Ctx0, cfg := Cfg} = S) ->
    Ctx = case {maps:get(context, O, default), Ctx0} of
              {new, _} -> ?megaco_choose_context_id;
              {_, undefined} -> ?megaco_choose_context_id;
              {_, C} -> C
          end,
    T = megaco_peer:make_tid(maps:get(term, O, "$")),
    Sdp = maps:get(sdp, O, true),
    Parms = #'StreamParms'{
               localControlDescriptor =
                   #'LocalControlDescriptor'{streamMode = maps:get(mode, O, recvOnly)},
               localDescriptor = case Sdp of
                                     true -> megaco_peer:sdp_group("$", "$", "0");
                                     false -> asn1_NOVALUE
                                 end},
    Ds = [media(Parms)] ++ events(maps:get(events, O, false)),
    Req = {addReq, #'AmmRequest'{terminationID = [T], descriptors = Ds}},
    expect(S, "add", O, call(S, Ctx, [Req]),
           fun([#'ActionReply'{contextId = RCtx,
                               commandReply = [{addReply, #'AmmsReply'{terminationID = [TID],
                                                                       terminationAudit = TA}}]}]) ->
                   Local = find_local(TA),
                   if
                       RCtx =:= 0; RCtx =:= ?megaco_choose_context_id;
                       RCtx =:= ?megaco_all_context_id ->
                           {fail, {bad_context, RCtx}};
                       TID#megaco_term_id.contains_wildcards =:= true ->
                           {fail, {wildcard_termination, megaco_peer:tid_str(TID)}};
                       Sdp andalso Local =:= undefined ->
                           {fail, no_local_sdp};
                       Sdp andalso element(1, Local) =:= "$"; Sdp andalso element(2, Local) =:= "$" ->
                           {fail, local_sdp_still_has_choose};
                       true ->
                           {ok, [{"ctx", RCtx}, {"term", megaco_peer:tid_str(TID)}]
                                ++ [{"local", A ++ ":" ++ P} || {A, P} <- [Local], Sdp],
                            S#{ctx => RCtx, terms => maps:get(terms, S) ++ [TID],
                               rid => rid_of(maps:get(events, O, false), S)}}
                   end;
              (Other) -> {fail, {unexpected_reply, Other}}
           end, Cfg);

step(modify, O, #{cfg := Cfg} = S) ->
    T = term(O, S),
    Parms = #'StreamParms'{
               localControlDescriptor =
                   #'LocalControlDescriptor'{streamMode = maps:get(mode, O, sendRecv)},
               remoteDescriptor = case maps:get(sdp, O, true) of
                                      true -> megaco_peer:sdp_group(maps:get(sdp_ip, Cfg),
                                                                    maps:get(remote_port, Cfg), "0");
                                      false -> asn1_NOVALUE
                                  end},
    Events = maps:get(events, O, true),
    Req = {modReq, #'AmmRequest'{terminationID = [T], descriptors = [media(Parms)] ++ events(Events)}},
    expect(S, "modify", O, call(S, ctx(S), [Req]),
           fun([#'ActionReply'{commandReply = [{modReply, #'AmmsReply'{}} | _]}]) ->
                   {ok, [{"term", megaco_peer:tid_str(T)}], S#{rid => rid_of(Events, S)}};
              (Other) -> {fail, {unexpected_reply, Other}}
           end, Cfg);

step(wait_notify, O, #{cfg := Cfg, rid := Rid} = S) ->
    Timeout = case maps:get(timeout, O, undefined) of
                  undefined -> maps:get(notify_timeout, Cfg);
                  Secs -> {ok, Ms} = megaco_peer:secs_to_ms(Secs), Ms
              end,
    receive
        {notify, Ctx, TIDs, NRid, Events} ->
            Extra = [{"ctx", Ctx}, {"term", string:join([megaco_peer:tid_str(T) || T <- TIDs], ",")},
                     {"rid", NRid}, {"events", string:join(Events, ",")}],
            case Rid =:= undefined orelse Rid =:= NRid of
                true -> step_ok(S, "wait_notify", Extra);
                false -> step_fail(S, "wait_notify", {unexpected_request_id, NRid, Rid})
            end;
        {disconnected, R} ->
            step_fail(S, "wait_notify", {disconnected, R})
    after Timeout ->
            step_fail(S, "wait_notify", no_notify)
    end;

step(audit_root, O, #{cfg := Cfg} = S) ->
    Toks = maps:get(tokens, O, [packagesToken]),
    Req = {auditValueRequest, #'AuditRequest'{terminationID = megaco_peer:root_tid(),
                                              auditDescriptor = #'AuditDescriptor'{auditToken = Toks}}},
    expect(S, "audit_root", O, call(S, ?megaco_null_context_id, [Req]),
           fun([#'ActionReply'{commandReply = [{auditValueReply, {auditResult, #'AuditResult'{
                                                                                 terminationAuditResult = Res}}}]}]) ->
                   Pkgs = [P#'PackagesItem'.packageName ++ "-" ++ integer_to_list(P#'PackagesItem'.packageVersion)
                           || {packagesDescriptor, Ps} <- Res, P <- Ps],
                   case lists:member(packagesToken, Toks) andalso Pkgs =:= [] of
                       true -> {fail, no_packages};
                       false -> {ok, [{"packages", string:join(Pkgs, ",")} || Pkgs =/= []], S}
                   end;
              (Other) -> {fail, {unexpected_reply, Other}}
           end, Cfg);

step(audit_term, O, #{cfg := Cfg} = S) ->
    T = term(O, S),
    Toks = maps:get(tokens, O, [mediaToken]),
    Req = {auditValueRequest, #'AuditRequest'{terminationID = T,
                                              auditDescriptor = #'AuditDescriptor'{auditToken = Toks}}},
    expect(S, "audit_term", O, call(S, ctx(S), [Req]),
           fun([#'ActionReply'{commandReply = [{auditValueReply, {auditResult, #'AuditResult'{
                                                                                 terminationAuditResult = Res}}}]}]) ->
                   Media = [MD || {mediaDescriptor, MD} <- Res],
                   case lists:member(mediaToken, Toks) andalso Media =:= [] of
                       true -> {fail, no_media};
                       false ->
                           Local = case Media of [M | _] -> find_local([{mediaDescriptor, M}]); _ -> undefined end,
                           {ok, [{"term", megaco_peer:tid_str(T)}]
                                ++ [{"local", A ++ ":" ++ P} || {A, P} <- [Local]], S}
                   end;
              (Other) -> {fail, {unexpected_reply, Other}}
           end, Cfg);

step(subtract, O, #{cfg := Cfg} = S) ->
    T = case maps:get(term, O, last) of
            all -> megaco_peer:make_tid("*");
            _ -> term(O, S)
        end,
    Stats = maps:get(stats, O, true),
    AD = case Stats of
             true -> #'AuditDescriptor'{auditToken = [statsToken]};
             false -> #'AuditDescriptor'{auditToken = []}
         end,
    Req = {subtractReq, #'SubtractRequest'{terminationID = [T], auditDescriptor = AD}},
    expect(S, "subtract", O, call(S, ctx(S), [Req]),
           fun([#'ActionReply'{commandReply = Reps}]) when Reps =/= [] ->
                   Gone = [TID || {subtractReply, #'AmmsReply'{terminationID = [TID]}} <- Reps],
                   StatNames = dedup([P#'StatisticsParameter'.statName
                                      || {subtractReply, #'AmmsReply'{terminationAudit = TA}} <- Reps,
                                         is_list(TA), {statisticsDescriptor, Ps} <- TA, P <- Ps]),
                   case Stats andalso StatNames =:= [] of
                       true -> {fail, no_statistics};
                       false ->
                           Left = [X || X <- maps:get(terms, S),
                                        not lists:member(megaco_peer:tid_key(X),
                                                         [megaco_peer:tid_key(G) || G <- Gone])],
                           {ok, [{"term", string:join([megaco_peer:tid_str(G) || G <- Gone], ",")}]
                                ++ [{"stats", string:join(StatNames, ",")} || StatNames =/= []],
                            S#{terms => Left, ctx => case Left of [] -> undefined; _ -> maps:get(ctx, S) end}}
                   end;
              (Other) -> {fail, {unexpected_reply, Other}}
           end, Cfg);

step(service_change, #{method := M, reason := R} = O, #{cfg := Cfg} = S) ->
    SCP = #'ServiceChangeParm'{serviceChangeMethod = M, serviceChangeReason = [R]},
    Req = {serviceChangeReq, #'ServiceChangeRequest'{terminationID = [megaco_peer:root_tid()],
                                                     serviceChangeParms = SCP}},
    expect(S, "service_change", O, call(S, ?megaco_null_context_id, [Req]),
           fun([#'ActionReply'{commandReply = [{serviceChangeReply, _}]}]) -> {ok, [], S};
              (Other) -> {fail, {unexpected_reply, Other}}
           end, Cfg);

step(sleep, #{secs := Secs}, S) ->
    {ok, Ms} = megaco_peer:secs_to_ms(Secs),
    timer:sleep(Ms),
    step_ok(S, "sleep", []);

step(Name, _O, _S) ->
    fail("script", {unknown_step, Name}).

dedup(L) ->
    lists:reverse(lists:foldl(fun(X, Acc) ->
                                      case lists:member(X, Acc) of true -> Acc; false -> [X | Acc] end
                              end, [], L)).

media(Parms) ->
    {mediaDescriptor, #'MediaDescriptor'{streams = {multiStream,
                                                    [#'StreamDescriptor'{streamID = 1,
                                                                         streamParms = Parms}]}}}.

%% Events descriptor: true -> g/cause (known to megaco's binary codec too).
events(false) -> [];
events(true) -> events(["g/cause"]);
events(Names) when is_list(Names) ->
    [{eventsDescriptor, #'EventsDescriptor'{requestID = ?RID,
                                            eventList = [#'RequestedEvent'{pkgdName = N} || N <- Names]}}].

rid_of(false, S) -> maps:get(rid, S);
rid_of(_, _S) -> ?RID.

term(O, S) ->
    case maps:get(term, O, last) of
        last ->
            case maps:get(terms, S) of
                [] -> step_fail(S, persistent_term:get(?STEP), no_termination);
                Ts -> lists:last(Ts)
            end;
        Str -> megaco_peer:make_tid(Str)
    end.

ctx(#{ctx := undefined}) -> ?megaco_null_context_id;
ctx(#{ctx := C}) -> C.

find_local(TA) when is_list(TA) ->
    Ls = [L || {mediaDescriptor, #'MediaDescriptor'{streams = Streams}} <- TA,
               #'StreamParms'{localDescriptor = L} <- parms(Streams),
               is_record(L, 'LocalRemoteDescriptor')],
    case Ls of
        [L | _] -> megaco_peer:sdp_addr(L);
        [] -> undefined
    end;
find_local(_) -> undefined.

parms({oneStream, P}) -> [P];
parms({multiStream, SDs}) -> [SD#'StreamDescriptor'.streamParms || SD <- SDs];
parms(_) -> [].

call(#{ch := CH}, Ctx, Cmds) ->
    AR = #'ActionRequest'{contextId = Ctx,
                          commandRequests = [#'CommandRequest'{command = C} || C <- Cmds]},
    megaco_peer:call_result(megaco:call(CH, [AR], [])).

%% Result: {ok, ARs} | {trans_error, Code} | {failed, Reason}.
expect(S, Name, O, Result, OkFun, _Cfg) ->
    Code = error_code(Result),
    case {maps:get(expect, O, ok), Result, Code} of
        {ok, {failed, R}, _} -> step_fail(S, Name, R);
        {ok, _, undefined} ->
            {ok, ARs} = Result,
            case OkFun(ARs) of
                {ok, Extra, S2} -> step_ok(S2, Name, Extra);
                {fail, Why} -> step_fail(S, Name, Why)
            end;
        {ok, _, C} -> step_fail(S, Name, {error, C});
        {{error, C}, _, C} -> step_ok(S, Name, [{"expected_error", C}]);
        {{error, Want}, _, Got} -> step_fail(S, Name, {expected_error, Want, got, Got})
    end.

error_code({trans_error, C}) -> C;
error_code({failed, _}) -> undefined;
error_code({ok, ARs}) ->
    Codes = [C || #'ActionReply'{errorDescriptor = #'ErrorDescriptor'{errorCode = C}} <- ARs]
        ++ [C || #'ActionReply'{commandReply = Reps} <- ARs, is_list(Reps),
                 {_, {error, #'ErrorDescriptor'{errorCode = C}}} <- Reps],
    case Codes of [] -> undefined; [C | _] -> C end.

step_ok(#{n := N} = S, Name, Extra) ->
    megaco_peer:line("MGC STEP ~w ~s OK~s", [N, Name, extra(Extra)]),
    S#{n => N + 1}.

step_fail(#{n := N}, Name, Why) ->
    megaco_peer:line("MGC STEP ~w ~s FAIL reason=~s", [N, Name, megaco_peer:short(Why)]),
    fail(Name, Why).

extra(Extra) ->
    [io_lib:format(" ~s=~s", [K, megaco_peer:short(V)]) || {K, V} <- Extra].

%%======================================================================
%% megaco_user callbacks (run in megaco's processes)
%%======================================================================

handle_connect(_CH, _V) -> ok.

handle_disconnect(CH, _V, Reason) ->
    megaco:cancel(CH, Reason),
    catch ?MAIN ! {disconnected, Reason},
    ok.

handle_syntax_error(_RH, _V, ED) ->
    megaco_peer:syntax_error(ED).

handle_message_error(_CH, _V, ED) ->
    megaco_peer:line("MGC INFO message_error code=~w", [ED#'ErrorDescriptor'.errorCode]),
    no_reply.

handle_trans_request(CH, V, ARs) ->
    try
        {discard_ack, [action(CH, V, AR) || AR <- ARs]}
    catch
        C:R:St ->
            megaco_peer:line("MGC INFO internal_error ~s", [megaco_peer:short({C, R, hd(St)})]),
            {discard_ack, megaco_peer:err(?megaco_internal_gateway_error, "megaco_mgc internal error")}
    end.

handle_trans_long_request(_CH, _V, _Data) ->
    {discard_ack, megaco_peer:err(?megaco_not_implemented, "no long requests")}.

handle_trans_reply(_CH, _V, _Reply, _Data) -> ok.
handle_trans_ack(_CH, _V, _Status, _Data) -> ok.

handle_unexpected_trans(_CH, _V, _Trans) ->
    megaco_peer:line("MGC INFO unexpected_transaction"),
    ok.

handle_trans_request_abort(_CH, _V, _TransId, _Pid) -> ok.

action(CH, V, #'ActionRequest'{contextId = Ctx, commandRequests = CRs}) ->
    commands(CH, V, Ctx, CRs, []).

%% Commands in order; the first error ends the action (H.248.1 7.1).
commands(_CH, _V, Ctx, [], Acc) ->
    #'ActionReply'{contextId = Ctx, commandReply = lists:reverse(Acc)};
commands(CH, V, Ctx, [CR | Rest], Acc) ->
    case command(CH, V, Ctx, CR#'CommandRequest'.command) of
        {ok, R} -> commands(CH, V, Ctx, Rest, [R | Acc]);
        {error, ED} -> #'ActionReply'{contextId = Ctx, errorDescriptor = ED,
                                      commandReply = lists:reverse(Acc)}
    end.

command(CH, V, _Ctx, {serviceChangeReq, #'ServiceChangeRequest'{terminationID = TIDs,
                                                               serviceChangeParms = P}}) ->
    #{version := Max} = Cfg = persistent_term:get(?CFG),
    Method = P#'ServiceChangeParm'.serviceChangeMethod,
    MidStr = megaco_peer:mid_str(CH#megaco_conn_handle.remote_mid),
    Root = lists:any(fun megaco_peer:is_root/1, TIDs),
    Registration = Root andalso lists:member(Method, [restart, failover, disconnected, handOff]),
    Wanted = case P#'ServiceChangeParm'.serviceChangeVersion of
                 N when is_integer(N) -> N;
                 _ -> V
             end,
    Neg = min(Wanted, Max),
    Expected = case maps:get(expect_mid, Cfg, undefined) of
                   undefined -> MidStr;
                   E -> megaco_peer:mid_str(megaco_peer:parse_mid(E))
               end,
    Result =
        if
            Registration, Expected =/= MidStr ->
                catch ?MAIN ! {register_rejected, MidStr},
                {errorDescriptor, megaco_peer:err(?megaco_unauthorized, "unexpected MID")};
            Registration ->
                %% The connection was made with the configured version; speak
                %% the negotiated one from this reply on.
                ok = megaco:update_conn_info(CH, protocol_version, Neg),
                catch ?MAIN ! {registered, CH, MidStr, Neg, atom_to_list(Method)},
                {serviceChangeResParms, #'ServiceChangeResParm'{serviceChangeVersion = Neg}};
            true ->
                megaco_peer:line("MGC INFO service_change method=~s", [Method]),
                {serviceChangeResParms, #'ServiceChangeResParm'{serviceChangeVersion = V}}
        end,
    {ok, {serviceChangeReply, #'ServiceChangeReply'{terminationID = TIDs,
                                                    serviceChangeResult = Result}}};
command(_CH, _V, Ctx, {notifyReq, #'NotifyRequest'{terminationID = TIDs,
                                                   observedEventsDescriptor = OED}}) ->
    #'ObservedEventsDescriptor'{requestId = Rid, observedEventLst = Evs} = OED,
    catch ?MAIN ! {notify, megaco_peer:ctx_str(Ctx), TIDs, Rid,
                   [E#'ObservedEvent'.eventName || E <- Evs]},
    {ok, {notifyReply, #'NotifyReply'{terminationID = TIDs}}};
command(_CH, _V, _Ctx, {_Tag, _}) ->
    %% An MG sends no other commands.
    {error, megaco_peer:err(?megaco_unsupported_or_unknown_command, "not handled by an MGC")}.
