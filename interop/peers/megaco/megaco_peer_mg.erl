%% megaco_peer_mg.erl -- Erlang/OTP megaco as a scripted H.248 MG (media
%% gateway, signalling only) for interop tests.  Started by
%% megaco_mg.escript; usage in usage/0 and README.md.
%%
%% It connects to an MGC (megaco_tcp or megaco_udp), registers with
%% ServiceChange Restart on ROOT (accepting the version the MGC answers),
%% then answers Add / Modify / Move / Subtract / AuditValue /
%% AuditCapabilities / ServiceChange (on context ALL: one reply per context), keeps contexts and terminations in an
%% ETS table, fills "$" in Local SDP, and sends Notify for requested events
%% (and on --notify-after / script timers).  Every transaction on the wire
%% is printed by the tap (megaco_peer_codec); own lines are "MG INFO ..."
%% and the final "MG DONE ...".

-module(megaco_peer_mg).
-behaviour(megaco_user).

-include_lib("megaco/include/megaco.hrl").
-include_lib("megaco/include/megaco_message_v3.hrl").

-export([main/1]).
-export([handle_connect/2, handle_disconnect/3, handle_syntax_error/3,
         handle_message_error/3, handle_trans_request/3,
         handle_trans_long_request/3, handle_trans_reply/4, handle_trans_ack/4,
         handle_unexpected_trans/3, handle_trans_request_abort/4]).

-define(MAIN, megaco_peer_mg_main).
-define(TAB, megaco_peer_mg).
-define(CFG, {?MODULE, cfg}).

usage() ->
    "usage: megaco_mg.escript [--mgc HOST:PORT] [--transport tcp|udp]\n"
    "           [--encoding text|compact|binary] [--mid MID] [--script FILE] [--log FILE]\n"
    "           [--version N] [--profile NAME/VER] [--local-port PORT] [--ip ADDR]\n"
    "           [--rtp-port-base N] [--term-prefix PREFIX] [--no-auto-notify]\n"
    "           [--notify-delay SECS] [--notify-after SECS] [--exit-after SECS]\n"
    "           [--idle-exit SECS] [--connect-timeout SECS] [--request-timeout SECS]\n"
    "           [--verbose]\n"
    "Defaults: --mgc 127.0.0.1:2944 (2945 with binary), tcp, text, --mid <mg1.example.net>,\n"
    "version 3, --ip 127.0.0.1, --rtp-port-base 40000, --term-prefix rtp/ (text) or\n"
    "11111111/00000000/ (binary: the number is written as 8 binary digits),\n"
    "--notify-delay 0.2, --connect-timeout 5, --request-timeout 3.\n"
    "Exit status: 0 = registered and every request it sent was answered OK;\n"
    "1 = otherwise; 2 = usage error.  See README.md.\n".

spec() ->
    [{"--mgc", mgc, string},
     {"--transport", transport, {enum, ["tcp", "udp"]}},
     {"--encoding", encoding, {enum, ["text", "compact", "binary"]}},
     {"--mid", mid, string},
     {"--script", script, string},
     {"--log", log, string},
     {"--version", version, int},
     {"--profile", profile, string},
     {"--local-port", local_port, int},
     {"--ip", ip, string},
     {"--rtp-port-base", rtp_port_base, int},
     {"--term-prefix", term_prefix, string},
     {"--notify-delay", notify_delay, secs},
     {"--notify-after", notify_after, secs},
     {"--no-auto-notify", no_auto_notify, flag},
     {"--exit-after", exit_after, secs},
     {"--idle-exit", idle_exit, secs},
     {"--connect-timeout", connect_timeout, secs},
     {"--request-timeout", request_timeout, secs},
     {"--verbose", verbose, flag}].

%%======================================================================
%% main
%%======================================================================

main(Args) ->
    Cli = megaco_peer:parse_args(Args, spec(), usage()),
    {ScriptOpts, Rules} = read_script(maps:get(script, Cli, undefined)),
    Opts0 = maps:merge(ScriptOpts, Cli),
    Enc = maps:get(encoding, Opts0, text),
    Defaults = #{transport => tcp, encoding => text, mid => "<mg1.example.net>",
                 version => 3, ip => "127.0.0.1", rtp_port_base => 40000,
                 term_prefix => case Enc of binary -> "11111111/00000000/"; _ -> "rtp/" end,
                 notify_delay => 200, connect_timeout => 5000, request_timeout => 3000,
                 local_port => 0, verbose => false,
                 mgc => "127.0.0.1:" ++ case Enc of binary -> "2945"; _ -> "2944" end},
    Opts = maps:merge(Defaults, Opts0),
    megaco_peer:start("MG", Opts),
    {Host, Port} = host_port(maps:get(mgc, Opts)),
    Mid = megaco_peer:parse_mid(maps:get(mid, Opts)),
    Cfg = Opts#{mid_rec => Mid, host => Host, port => Port, binary => Enc =:= binary,
                auto_notify => not maps:get(no_auto_notify, Opts, false),
                user_mod => ?MODULE},
    persistent_term:put(?CFG, Cfg),
    register(?MAIN, self()),
    ets:new(?TAB, [named_table, public, set]),
    ets:insert(?TAB, [{{counter, ctx}, 0}, {{counter, term}, 0},
                      {{counter, port}, 0}, {{counter, busy}, 0}]),
    [ets:insert(?TAB, {{fail, Cmd}, Code, Count}) || {fail, Cmd, Code, Count} <- Rules],
    [ets:insert(?TAB, {{delay, Cmd}, Ms}) || {delay, Cmd, Ms} <- Rules],
    ok = megaco:start_user(Mid, megaco_peer:user_config(Cfg)),
    CH = connect(Cfg),
    megaco_peer:line("MG INFO connected transport=~s encoding=~s mgc=~s mid=~s",
                     [maps:get(transport, Cfg), Enc, maps:get(mgc, Cfg), megaco_peer:mid_str(Mid)]),
    case register_mg(CH, Cfg) of
        {ok, Ver} ->
            megaco_peer:line("MG INFO registered version=~w", [Ver]);
        {error, Why} ->
            done(1, "register_failed", [{detail, Why}])
    end,
    start_timers(Cfg, Rules),
    loop(#{failures => 0, outstanding => 0, cfg => Cfg}).

host_port(S) ->
    case string:split(S, ":", trailing) of
        [H, P] -> {megaco_peer:parse_host(H), list_to_integer(P)};
        _ -> megaco_peer:usage_exit(usage(), "--mgc wants HOST:PORT")
    end.

%% Script file: Erlang terms, one per line ending in ".".
%%   {Option, Value}            same as --option (e.g. {notify_delay, 0.5},
%%                              {term_prefix, "ip/"}); the command line wins
%%   {fail, Cmd, Code}          answer every Cmd with error Code
%%   {fail, Cmd, Code, N}       ... only the first N of them
%%   {delay, Cmd, Secs}         answer Cmd after Secs (megaco sends
%%                              TransactionPending first)
%%   {at, Secs, Action}         Secs after registration: notify |
%%                              {notify, "pkg/event"} |
%%                              {service_change, Method, "Reason"} | exit
%% Cmd: add | modify | move | subtract | audit_value | audit_cap | notify |
%%      service_change
read_script(undefined) ->
    {#{}, []};
read_script(File) ->
    case megaco_peer:consult(File) of
        {ok, Terms} ->
            lists:foldl(fun script_term/2, {#{}, []}, Terms);
        {error, E} ->
            megaco_peer:usage_exit(usage(), io_lib:format("cannot read script ~s: ~p", [File, E]))
    end.

script_term({fail, Cmd, Code}, {O, R}) -> {O, R ++ [{fail, Cmd, Code, infinity}]};
script_term({fail, Cmd, Code, N}, {O, R}) -> {O, R ++ [{fail, Cmd, Code, N}]};
script_term({delay, Cmd, Secs}, {O, R}) -> {O, R ++ [{delay, Cmd, ms(Secs)}]};
script_term({at, Secs, Action}, {O, R}) -> {O, R ++ [{at, ms(Secs), Action}]};
script_term({Key, Val}, {O, R}) when Key =:= notify_delay; Key =:= notify_after;
                                     Key =:= exit_after; Key =:= idle_exit;
                                     Key =:= connect_timeout; Key =:= request_timeout ->
    {O#{Key => ms(Val)}, R};
script_term({Key, Val}, {O, R}) when is_atom(Key) -> {O#{Key => Val}, R};
script_term(Other, _) ->
    megaco_peer:usage_exit(usage(), io_lib:format("bad script term ~p", [Other])).

ms(S) ->
    {ok, Ms} = megaco_peer:secs_to_ms(S),
    Ms.

%%----------------------------------------------------------------------
%% Transport
%%----------------------------------------------------------------------

connect(#{mid_rec := Mid, transport := tcp, host := Host, port := Port,
          connect_timeout := T}) ->
    RH = megaco:user_info(Mid, receive_handle),
    {ok, Sup} = megaco_tcp:start_transport(),
    Deadline = megaco_peer:now_ms() + T,
    tcp_connect(Sup, [{host, Host}, {port, Port}, {receive_handle, RH}], RH, Deadline);
connect(#{mid_rec := Mid, transport := udp, host := Host, port := Port,
          local_port := LPort}) ->
    RH = megaco:user_info(Mid, receive_handle),
    {ok, Sup} = megaco_udp:start_transport(),
    case megaco_udp:open(Sup, [{port, LPort}, {receive_handle, RH}]) of
        {ok, Handle, Ctrl} ->
            SH = megaco_udp:create_send_handle(Handle, Host, Port),
            {ok, CH} = megaco:connect(RH, preliminary_mid, SH, Ctrl),
            CH;
        {error, R} ->
            done(1, "udp_open_failed", [{detail, R}])
    end.

tcp_connect(Sup, Opts, RH, Deadline) ->
    case megaco_tcp:connect(Sup, Opts) of
        {ok, SH, Ctrl} ->
            {ok, CH} = megaco:connect(RH, preliminary_mid, SH, Ctrl),
            CH;
        {error, R} ->
            case megaco_peer:now_ms() < Deadline of
                true -> timer:sleep(100), tcp_connect(Sup, Opts, RH, Deadline);
                false -> done(1, "connect_failed", [{detail, R}])
            end
    end.

register_mg(CH, #{version := V} = Cfg) ->
    Profile = case maps:get(profile, Cfg, undefined) of
                  undefined -> asn1_NOVALUE;
                  P ->
                      [Name, PV] = string:split(P, "/", trailing),
                      #'ServiceChangeProfile'{profileName = Name, version = list_to_integer(PV)}
              end,
    SCP = #'ServiceChangeParm'{serviceChangeMethod = restart,
                               serviceChangeReason = ["901"],
                               serviceChangeVersion = V,
                               serviceChangeProfile = Profile},
    AR = sc_action(SCP),
    case megaco_peer:call_result(megaco:call(CH, [AR], [])) of
        {ok, [#'ActionReply'{errorDescriptor = asn1_NOVALUE,
                             commandReply = [{serviceChangeReply,
                                              #'ServiceChangeReply'{serviceChangeResult = Res}}]}]} ->
            case Res of
                {serviceChangeResParms, #'ServiceChangeResParm'{serviceChangeVersion = NV}} ->
                    Conn = current_conn(),
                    Ver = case NV of
                              N when is_integer(N), N =/= V ->
                                  ok = megaco:update_conn_info(Conn, protocol_version, N),
                                  N;
                              _ -> V
                          end,
                    {ok, Ver};
                {errorDescriptor, ED} ->
                    {error, {rejected, ED#'ErrorDescriptor'.errorCode}}
            end;
        Other ->
            {error, Other}
    end.

sc_action(SCP) ->
    SCR = #'ServiceChangeRequest'{terminationID = [megaco_peer:root_tid()],
                                  serviceChangeParms = SCP},
    #'ActionRequest'{contextId = ?megaco_null_context_id,
                     commandRequests = [#'CommandRequest'{command = {serviceChangeReq, SCR}}]}.

current_conn() ->
    #{mid_rec := Mid} = persistent_term:get(?CFG),
    case megaco:user_info(Mid, connections) of
        [CH | _] -> CH;
        [] -> undefined
    end.

%%----------------------------------------------------------------------
%% Main loop
%%----------------------------------------------------------------------

start_timers(Cfg, Rules) ->
    case maps:get(exit_after, Cfg, undefined) of
        undefined -> ok;
        T -> erlang:send_after(T, self(), {at, exit_after})
    end,
    case maps:get(notify_after, Cfg, undefined) of
        undefined -> ok;
        N -> erlang:send_after(N, self(), {at, notify})
    end,
    case maps:get(idle_exit, Cfg, undefined) of
        undefined -> ok;
        _ -> self() ! idle_tick
    end,
    [erlang:send_after(T, self(), {at, A}) || {at, T, A} <- Rules],
    ok.

loop(#{cfg := Cfg} = S) ->
    receive
        {disconnected, Reason} ->
            megaco_peer:line("MG INFO disconnected reason=~s", [short(Reason)]),
            finish(S, "closed");
        {at, exit_after} ->
            finish(S, "exit_after");
        {at, exit} ->
            finish(S, "script_exit");
        {at, notify} ->
            loop(start_request(S, {notify, latest, undefined}));
        {at, {notify, Event}} ->
            loop(start_request(S, {notify, latest, Event}));
        {at, {service_change, Method, Reason}} ->
            loop(start_request(S, {service_change, Method, Reason}));
        {auto_notify, Key} ->
            erlang:send_after(maps:get(notify_delay, Cfg), self(), {notify_now, Key}),
            loop(S);
        {notify_now, Key} ->
            loop(start_request(S, {notify, Key, undefined}));
        {request_done, What, ok} ->
            megaco_peer:line("MG INFO ~s OK", [What]),
            loop(S#{outstanding => maps:get(outstanding, S) - 1});
        {request_done, What, Err} ->
            megaco_peer:line("MG INFO ~s FAIL detail=~s", [What, short(Err)]),
            loop(S#{outstanding => maps:get(outstanding, S) - 1,
                    failures => maps:get(failures, S) + 1});
        {mgc_service_change, Method} ->
            megaco_peer:line("MG INFO mgc_service_change method=~s", [Method]),
            loop(S);
        idle_tick ->
            Idle = maps:get(idle_exit, Cfg),
            case megaco_peer:stats() of
                {_, _, Since} when is_integer(Since), Since >= Idle ->
                    case {maps:get(outstanding, S), ets:lookup_element(?TAB, {counter, busy}, 2)} of
                        {0, 0} -> finish(S, "idle");
                        _ -> ok
                    end;
                _ -> ok
            end,
            erlang:send_after(100, self(), idle_tick),
            loop(S);
        _Other ->
            loop(S)
    end.

start_request(S, What) ->
    Main = self(),
    spawn(fun() ->
                  {Name, Res} = try send_request(What)
                                catch C:R -> {element(1, What), {crash, C, R}}
                                end,
                  Main ! {request_done, Name, Res}
          end),
    S#{outstanding => maps:get(outstanding, S) + 1}.

send_request({notify, Which, Event0}) ->
    Term = case Which of
               latest ->
                   case ets:lookup(?TAB, last_term) of
                       [{_, K}] -> lookup_term(K);
                       [] -> undefined
                   end;
               K -> lookup_term(K)
           end,
    {Ctx, TID, RID, Event} =
        case Term of
            undefined ->
                {?megaco_null_context_id, megaco_peer:root_tid(), 0, default(Event0, "g/cause")};
            #{ctx := C, tid := T, events := {R, [E | _]}} ->
                {C, T, R, default(Event0, E)};
            #{ctx := C, tid := T} ->
                {C, T, 0, default(Event0, "g/cause")}
        end,
    OE = #'ObservedEvent'{eventName = Event, eventParList = event_params(Event)},
    NR = #'NotifyRequest'{terminationID = [TID],
                          observedEventsDescriptor =
                              #'ObservedEventsDescriptor'{requestId = RID,
                                                          observedEventLst = [OE]}},
    AR = #'ActionRequest'{contextId = Ctx,
                          commandRequests = [#'CommandRequest'{command = {notifyReq, NR}}]},
    {"notify", check_reply(notifyReply, megaco_peer:call_result(megaco:call(current_conn(), [AR], [])))};
send_request({service_change, Method, Reason}) ->
    SCP = #'ServiceChangeParm'{serviceChangeMethod = Method,
                               serviceChangeReason = [Reason]},
    {"service_change",
     check_reply(serviceChangeReply,
                 megaco_peer:call_result(megaco:call(current_conn(), [sc_action(SCP)], [])))}.

default(undefined, D) -> D;
default(V, _) -> V.

%% g/cause needs its Generalcause parameter (H.248.1 E.1.2); NR = normal release.
event_params("g/cause") ->
    [#'EventParameter'{eventParameterName = "Generalcause", value = ["NR"]}];
event_params(_) -> [].

check_reply(Tag, {ok, [#'ActionReply'{errorDescriptor = asn1_NOVALUE, commandReply = Reps}]}) ->
    case [R || {T, R} <- Reps, T =:= Tag] of
        [#'NotifyReply'{errorDescriptor = #'ErrorDescriptor'{errorCode = C}}] -> {error, C};
        [#'ServiceChangeReply'{serviceChangeResult = {errorDescriptor, ED}}] ->
            {error, ED#'ErrorDescriptor'.errorCode};
        [_] -> ok;
        _ -> {error, {unexpected, Reps}}
    end;
check_reply(_Tag, {ok, [#'ActionReply'{errorDescriptor = #'ErrorDescriptor'{errorCode = C}}]}) ->
    {error, C};
check_reply(_Tag, Other) ->
    {error, Other}.

finish(#{failures := F}, Reason) ->
    done(case F of 0 -> 0; _ -> 1 end, Reason, [{failures, F}]).

done(Status, Reason, Extra) ->
    {Sent, Recv, _} = megaco_peer:stats(),
    megaco_peer:line("MG DONE ~s reason=~s sent=~w recv=~w~s",
                     [case Status of 0 -> "OK"; _ -> "FAIL" end, Reason, Sent, Recv,
                      [io_lib:format(" ~s=~s", [K, short(V)]) || {K, V} <- Extra]]),
    megaco_peer:finish(Status).

short(T) -> megaco_peer:short(T).

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
    megaco_peer:line("MG INFO message_error code=~w", [ED#'ErrorDescriptor'.errorCode]),
    no_reply.

handle_trans_request(_CH, _V, ARs) ->
    case delay_for(ARs) of
        0 -> {discard_ack, safe_process(ARs)};
        Ms -> {pending, {Ms, ARs}}
    end.

handle_trans_long_request(_CH, _V, {Ms, ARs}) ->
    %% busy: no --idle-exit while a delayed answer is outstanding
    ets:update_counter(?TAB, {counter, busy}, 1),
    timer:sleep(Ms),
    Reply = safe_process(ARs),
    ets:update_counter(?TAB, {counter, busy}, -1),
    {discard_ack, Reply}.

handle_trans_reply(_CH, _V, _Reply, _Data) -> ok.
handle_trans_ack(_CH, _V, _Status, _Data) -> ok.

handle_unexpected_trans(_CH, _V, _Trans) ->
    megaco_peer:line("MG INFO unexpected_transaction"),
    ok.

handle_trans_request_abort(_CH, _V, _TransId, _Pid) -> ok.

%%======================================================================
%% Command processing
%%======================================================================

delay_for(ARs) ->
    Cmds = [cmd_atom(element(1, CR#'CommandRequest'.command))
            || #'ActionRequest'{commandRequests = CRs} <- ARs, CR <- CRs],
    lists:max([0 | [Ms || C <- Cmds, {_, Ms} <- ets:lookup(?TAB, {delay, C})]]).

safe_process(ARs) ->
    try
        lists:append([actions(AR) || AR <- ARs])
    catch
        C:R:St ->
            megaco_peer:line("MG INFO internal_error ~s", [short({C, R, hd(St)})]),
            megaco_peer:err(?megaco_internal_gateway_error, "megaco_mg internal error")
    end.

cmd_atom(addReq) -> add;
cmd_atom(modReq) -> modify;
cmd_atom(moveReq) -> move;
cmd_atom(subtractReq) -> subtract;
cmd_atom(auditValueRequest) -> audit_value;
cmd_atom(auditCapRequest) -> audit_cap;
cmd_atom(notifyReq) -> notify;
cmd_atom(serviceChangeReq) -> service_change;
cmd_atom(Other) -> Other.

%% An action on all contexts (ContextID ALL, H.248.1 6.1.1) runs in each
%% context in turn, with one ActionReply per context where its termination
%% IDs matched (the others are left out); nothing matched anywhere: 431 on
%% ALL.  This is how an MGC lists the contexts (AuditValue = * on ALL).
actions(#'ActionRequest'{contextId = ?megaco_all_context_id} = AR) ->
    Ctxs = lists:sort([C || [C] <- ets:match(?TAB, {{ctx, '$1'}, '_'})]),
    Rs = [R || C <- Ctxs,
               R <- [action(AR#'ActionRequest'{contextId = C})],
               not no_match(R#'ActionReply'.errorDescriptor)],
    case Rs of
        [] -> [#'ActionReply'{contextId = ?megaco_all_context_id,
                              errorDescriptor = megaco_peer:err(
                                                  ?megaco_no_termination_id_matched_a_wildcard,
                                                  "no context matched")}];
        _ -> Rs
    end;
actions(AR) ->
    [action(AR)].

no_match(#'ErrorDescriptor'{errorCode = ?megaco_no_termination_id_matched_a_wildcard}) -> true;
no_match(#'ErrorDescriptor'{errorCode = ?megaco_terminations_id_not_in_specified_context}) -> true;
no_match(_) -> false.

action(#'ActionRequest'{contextId = Ctx0, commandRequests = CRs}) ->
    {Ctx, New} = case Ctx0 of
                     ?megaco_choose_context_id -> {next(ctx), true};
                     _ -> {Ctx0, false}
                 end,
    Known = Ctx =:= ?megaco_null_context_id orelse Ctx =:= ?megaco_all_context_id
        orelse New orelse ets:member(?TAB, {ctx, Ctx}),
    case Known of
        false ->
            #'ActionReply'{contextId = Ctx,
                           errorDescriptor = megaco_peer:err(?megaco_unknown_context_id,
                                                             "unknown context")};
        true ->
            New andalso ets:insert(?TAB, {{ctx, Ctx}, []}),
            {Replies, Err} = commands(Ctx, CRs, []),
            %% A context chosen for this action that ended up empty was
            %% never created: answer with the null context.
            RCtx = case New andalso ctx_terms(Ctx) =:= [] of
                       true -> ets:delete(?TAB, {ctx, Ctx}), ?megaco_null_context_id;
                       false -> Ctx
                   end,
            #'ActionReply'{contextId = RCtx, errorDescriptor = Err, commandReply = Replies}
    end.

-define(ERR(Code, Text), {error, megaco_peer:err(Code, Text)}).

commands(_Ctx, [], Acc) ->
    {lists:reverse(Acc), asn1_NOVALUE};
commands(Ctx, [#'CommandRequest'{command = {Tag, Req}} | Rest], Acc) ->
    Cmd = cmd_atom(Tag),
    Res = case forced_failure(Cmd) of
              {error, _} = E -> E;
              none ->
                  case unknown_package(Req) of
                      none -> command(Cmd, Ctx, Req);
                      Pkg -> ?ERR(?megaco_unsupported_or_unknown_package,
                                  "unknown package " ++ Pkg)
                  end
          end,
    case Res of
        {ok, Reps} -> commands(Ctx, Rest, lists:reverse(Reps) ++ Acc);
        {error, ED} -> {lists:reverse(Acc), ED}
    end.

%% Packages the scripted MG accepts in Add/Modify/Move descriptors: the base packages it
%% announces and the Iq mandatory packages of TS 29.334 5.14.1 (accepted, not implemented).
%% Anything else is refused with 440, as a real MG application would (megaco itself leaves
%% package checks to the user callback). Names are only checked in text form ("pkg/item").
-define(KNOWN_PACKAGES, ["g", "root", "nt", "rtp", "tdmc", "ipdc", "ipnapt", "hangterm",
                         "gm", "tman", "ds", "rtcph", "it"]).

unknown_package(#'AmmRequest'{descriptors = Ds}) ->
    Names = lists:append([descriptor_names(D) || D <- Ds]),
    case [P || N <- Names, P <- [package_of(N)], P =/= none,
               not lists:member(P, ?KNOWN_PACKAGES)] of
        [] -> none;
        [P | _] -> P
    end;
unknown_package(_) ->
    none.

descriptor_names({mediaDescriptor, #'MediaDescriptor'{termStateDescr = TS, streams = Ss}}) ->
    TSNames = case TS of
                  #'TerminationStateDescriptor'{propertyParms = PPs} -> prop_names(PPs);
                  _ -> []
              end,
    StreamParms = case Ss of
                      {oneStream, SP} -> [SP];
                      {multiStream, SDs} -> [SP || #'StreamDescriptor'{streamParms = SP} <- SDs];
                      _ -> []
                  end,
    LCNames = [N || #'StreamParms'{localControlDescriptor = #'LocalControlDescriptor'{
                                                              propertyParms = PPs}} <- StreamParms,
                    N <- prop_names(PPs)],
    TSNames ++ LCNames;
descriptor_names({eventsDescriptor, #'EventsDescriptor'{eventList = Evs}}) ->
    [N || #'RequestedEvent'{pkgdName = N} <- Evs];
descriptor_names(_) ->
    [].

prop_names(PPs) when is_list(PPs) -> [N || #'PropertyParm'{name = N} <- PPs];
prop_names(_) -> [].

package_of(Name) when is_list(Name) ->
    case string:split(Name, "/") of
        [P, _] when P =/= "" ->
            case lists:all(fun(C) -> (C >= $a andalso C =< $z) orelse (C >= $A andalso C =< $Z)
                                         orelse (C >= $0 andalso C =< $9) orelse C =:= $_ end, P)
                andalso not lists:all(fun(C) -> C >= $0 andalso C =< $9 end, P) of
                true -> string:lowercase(P);
                false -> none
            end;
        _ -> none
    end;
package_of(_) ->
    none.

forced_failure(Cmd) ->
    case ets:lookup(?TAB, {fail, Cmd}) of
        [{_, Code, infinity}] -> {error, megaco_peer:err(Code, "scripted failure")};
        [{K, Code, N}] when N > 0 ->
            ets:insert(?TAB, {K, Code, N - 1}),
            {error, megaco_peer:err(Code, "scripted failure")};
        _ -> none
    end.


%%----------------------------------------------------------------------

command(add, Ctx, #'AmmRequest'{terminationID = [T], descriptors = Ds}) ->
    if
        Ctx =:= ?megaco_null_context_id; Ctx =:= ?megaco_all_context_id ->
            ?ERR(?megaco_unknown_action_or_illegal_combination_of_actions,
                 "Add needs a context");
        true ->
            {TID, Key} = case megaco_peer:is_choose(T) of
                             true -> new_tid();
                             false -> {T, megaco_peer:tid_key(T)}
                         end,
            case {megaco_peer:is_all(T), lookup_term(Key)} of
                {true, _} -> ?ERR(?megaco_syntax_error_in_command, "Add with wildcard *");
                {false, #{}} -> ?ERR(?megaco_termination_id_already_in_context,
                                     "termination already in a context");
                {false, undefined} ->
                    Term0 = #{tid => TID, key => Key, ctx => Ctx, port => next_port(),
                              added => megaco_peer:now_ms(), mode => inactive,
                              local => asn1_NOVALUE, remote => asn1_NOVALUE, events => none},
                    {Term, Audit} = apply_descriptors(Term0, Ds),
                    store_term(Term),
                    ets:insert(?TAB, {{ctx, Ctx}, ctx_terms(Ctx) ++ [Key]}),
                    ets:insert(?TAB, {last_term, Key}),
                    {ok, [{addReply, #'AmmsReply'{terminationID = [TID],
                                                  terminationAudit = Audit}}]}
            end
    end;
command(add, _Ctx, _) ->
    ?ERR(?megaco_syntax_error_in_command, "Add wants one termination");

command(modify, Ctx, #'AmmRequest'{terminationID = [T], descriptors = Ds}) ->
    with_terms(Ctx, T, fun(Term0) ->
                               {Term, Audit} = apply_descriptors(Term0, Ds),
                               store_term(Term),
                               {modReply, #'AmmsReply'{terminationID = [maps:get(tid, Term)],
                                                       terminationAudit = Audit}}
                       end);

command(move, Ctx, #'AmmRequest'{terminationID = [T], descriptors = Ds}) ->
    case lookup_term(megaco_peer:tid_key(T)) of
        undefined -> ?ERR(?megaco_unknown_termination_id, "unknown termination");
        _ when Ctx =:= ?megaco_null_context_id; Ctx =:= ?megaco_all_context_id ->
            ?ERR(?megaco_unknown_action_or_illegal_combination_of_actions, "Move needs a context");
        #{key := Key, ctx := Old} = Term0 ->
            ets:insert(?TAB, {{ctx, Old}, ctx_terms(Old) -- [Key]}),
            ctx_terms(Old) =:= [] andalso ets:delete(?TAB, {ctx, Old}),
            ets:insert(?TAB, {{ctx, Ctx}, ctx_terms(Ctx) ++ [Key]}),
            {Term, Audit} = apply_descriptors(Term0#{ctx => Ctx}, Ds),
            store_term(Term),
            {ok, [{moveReply, #'AmmsReply'{terminationID = [T], terminationAudit = Audit}}]}
    end;

command(subtract, Ctx, #'SubtractRequest'{terminationID = [T], auditDescriptor = AD}) ->
    WantStats = case AD of
                    asn1_NOVALUE -> true;          % H.248.1 7.2.3: statistics by default
                    #'AuditDescriptor'{auditToken = Toks} when is_list(Toks) ->
                        lists:member(statsToken, Toks);
                    _ -> false
                end,
    with_terms(Ctx, T, fun(#{key := Key, ctx := C} = Term) ->
                               ets:delete(?TAB, {term, Key}),
                               Left = ctx_terms(C) -- [Key],
                               case Left of
                                   [] -> ets:delete(?TAB, {ctx, C});
                                   _ -> ets:insert(?TAB, {{ctx, C}, Left})
                               end,
                               Audit = case WantStats of
                                           true -> [{statisticsDescriptor, stats(Term)}];
                                           false -> asn1_NOVALUE
                                       end,
                               {subtractReply, #'AmmsReply'{terminationID = [maps:get(tid, Term)],
                                                            terminationAudit = Audit}}
                       end);

command(Audit, Ctx, #'AuditRequest'{terminationID = T, auditDescriptor = AD})
  when Audit =:= audit_value; Audit =:= audit_cap ->
    Tag = case Audit of audit_value -> auditValueReply; audit_cap -> auditCapReply end,
    Toks = case AD of
               #'AuditDescriptor'{auditToken = L} when is_list(L) -> L;
               _ -> []
           end,
    case megaco_peer:is_root(T) of
        true ->
            Res = [{packagesDescriptor, packages()} || lists:member(packagesToken, Toks)],
            {ok, [{Tag, {auditResult, #'AuditResult'{terminationID = T,
                                                     terminationAuditResult = Res}}}]};
        false ->
            case megaco_peer:is_all(T) of
                true ->
                    Keys = case Ctx of
                               ?megaco_null_context_id -> [K || [K] <- ets:match(?TAB, {{term, '$1'}, '_'})];
                               ?megaco_all_context_id -> [K || [K] <- ets:match(?TAB, {{term, '$1'}, '_'})];
                               _ -> ctx_terms(Ctx)
                           end,
                    TIDs = [maps:get(tid, lookup_term(K)) || K <- Keys],
                    {ok, [{Tag, {contextAuditResult, TIDs}}]};
                false ->
                    case lookup_term(megaco_peer:tid_key(T)) of
                        undefined -> ?ERR(?megaco_unknown_termination_id, "unknown termination");
                        Term ->
                            Res = lists:append([audit_token(Tok, Term) || Tok <- Toks]),
                            {ok, [{Tag, {auditResult, #'AuditResult'{terminationID = T,
                                                                     terminationAuditResult = Res}}}]}
                    end
            end
    end;

command(notify, _Ctx, #'NotifyRequest'{terminationID = TIDs}) ->
    {ok, [{notifyReply, #'NotifyReply'{terminationID = TIDs}}]};

command(service_change, _Ctx, #'ServiceChangeRequest'{terminationID = TIDs,
                                                      serviceChangeParms = P}) ->
    catch ?MAIN ! {mgc_service_change, atom_to_list(P#'ServiceChangeParm'.serviceChangeMethod)},
    #{version := V} = persistent_term:get(?CFG),
    {ok, [{serviceChangeReply,
           #'ServiceChangeReply'{terminationID = TIDs,
                                 serviceChangeResult =
                                     {serviceChangeResParms,
                                      #'ServiceChangeResParm'{serviceChangeVersion = V}}}}]};

command(_Cmd, _Ctx, _Req) ->
    ?ERR(?megaco_unsupported_or_unknown_command, "not supported by megaco_mg").

%% Apply Fun to the termination T (specific, or "*" = every termination in
%% Ctx); Fun returns one command reply.
with_terms(Ctx, T, Fun) ->
    case megaco_peer:is_all(T) of
        true when Ctx =/= ?megaco_null_context_id, Ctx =/= ?megaco_all_context_id ->
            case ctx_terms(Ctx) of
                [] -> ?ERR(?megaco_no_termination_id_matched_a_wildcard, "no termination matched");
                Keys -> {ok, [Fun(lookup_term(K)) || K <- Keys]}
            end;
        true ->
            ?ERR(?megaco_no_termination_id_matched_a_wildcard, "wildcard needs a context");
        false ->
            case lookup_term(megaco_peer:tid_key(T)) of
                undefined -> ?ERR(?megaco_unknown_termination_id, "unknown termination");
                #{ctx := C} when C =/= Ctx, Ctx =/= ?megaco_null_context_id ->
                    ?ERR(?megaco_terminations_id_not_in_specified_context,
                         "termination not in that context");
                Term -> {ok, [Fun(Term)]}
            end
    end.

%% Media (Local "$" filled in, Remote and mode kept) and Events.  Returns
%% the updated termination and the terminationAudit for the reply: a
%% Media descriptor with the streams whose Local had "$" in it.
apply_descriptors(Term0, Ds) ->
    #{ip := Ip, auto_notify := Auto} = persistent_term:get(?CFG),
    lists:foldl(
      fun({mediaDescriptor, #'MediaDescriptor'{streams = Streams}}, {T, Audit}) ->
              {T2, ReplyStreams} = apply_streams(T, Streams, Ip),
              {T2, add_audit(Audit, ReplyStreams)};
         ({eventsDescriptor, #'EventsDescriptor'{requestID = RID, eventList = Evs}}, {T, Audit}) ->
              Names = [E#'RequestedEvent'.pkgdName || E <- Evs],
              Auto andalso Names =/= [] andalso (catch ?MAIN ! {auto_notify, maps:get(key, T)}),
              {T#{events => case Names of [] -> none; _ -> {RID, Names} end}, Audit};
         (_, Acc) ->
              Acc
      end, {Term0, asn1_NOVALUE}, Ds).

add_audit(Audit, none) -> Audit;
add_audit(_Audit, MD) -> [{mediaDescriptor, MD}].

apply_streams(T, {oneStream, P}, Ip) ->
    {T2, Reply} = apply_parms(T, P, Ip),
    {T2, case Reply of none -> none; _ -> #'MediaDescriptor'{streams = {oneStream, Reply}} end};
apply_streams(T, {multiStream, SDs}, Ip) ->
    {T2, Replies} = lists:foldl(
                      fun(#'StreamDescriptor'{streamID = Sid, streamParms = P}, {TA, RA}) ->
                              {TB, R} = apply_parms(TA, P, Ip),
                              {TB, case R of
                                       none -> RA;
                                       _ -> RA ++ [#'StreamDescriptor'{streamID = Sid, streamParms = R}]
                                   end}
                      end, {T, []}, SDs),
    {T2, case Replies of [] -> none; _ -> #'MediaDescriptor'{streams = {multiStream, Replies}} end};
apply_streams(T, _, _Ip) ->
    {T, none}.

apply_parms(T, #'StreamParms'{localControlDescriptor = LC, localDescriptor = L,
                              remoteDescriptor = R}, Ip) ->
    T1 = case LC of
             #'LocalControlDescriptor'{streamMode = M} when M =/= asn1_NOVALUE -> T#{mode => M};
             _ -> T
         end,
    T2 = case R of
             #'LocalRemoteDescriptor'{} -> T1#{remote => R};
             _ -> T1
         end,
    case L of
        #'LocalRemoteDescriptor'{} ->
            case megaco_peer:sdp_has_choose(L) of
                true ->
                    Filled = megaco_peer:fill_sdp(L, Ip, maps:get(port, T2)),
                    {T2#{local => Filled}, #'StreamParms'{localDescriptor = Filled}};
                false ->
                    {T2#{local => L}, none}
            end;
        _ ->
            {T2, none}
    end.

audit_token(mediaToken, #{mode := M, local := L, remote := R}) ->
    [{mediaDescriptor,
      #'MediaDescriptor'{streams =
                             {multiStream,
                              [#'StreamDescriptor'{
                                  streamID = 1,
                                  streamParms = #'StreamParms'{
                                                   localControlDescriptor =
                                                       #'LocalControlDescriptor'{streamMode = M},
                                                   localDescriptor = L,
                                                   remoteDescriptor = R}}]}}}];
audit_token(eventsToken, #{events := {RID, Names}}) ->
    [{eventsDescriptor, #'EventsDescriptor'{requestID = RID,
                                            eventList = [#'RequestedEvent'{pkgdName = N}
                                                         || N <- Names]}}];
audit_token(statsToken, Term) ->
    [{statisticsDescriptor, stats(Term)}];
audit_token(packagesToken, _) ->
    [{packagesDescriptor, packages()}];
audit_token(_, _) ->
    [].

%% Only packages megaco's binary name resolver knows (so binary works too).
packages() ->
    [#'PackagesItem'{packageName = N, packageVersion = 1} || N <- ["g", "root", "nt", "rtp"]].

stats(#{added := Added}) ->
    Dur = integer_to_list(megaco_peer:now_ms() - Added),
    [#'StatisticsParameter'{statName = N, statValue = [V]}
     || {N, V} <- [{"nt/os", "0"}, {"nt/or", "0"}, {"nt/dur", Dur},
                   {"rtp/ps", "0"}, {"rtp/pr", "0"}]].

%%----------------------------------------------------------------------
%% ETS helpers
%%----------------------------------------------------------------------

next(What) -> ets:update_counter(?TAB, {counter, What}, 1).

next_port() ->
    #{rtp_port_base := Base} = persistent_term:get(?CFG),
    Base + 2 * (next(port) - 1).

new_tid() ->
    #{term_prefix := Prefix, binary := Bin} = persistent_term:get(?CFG),
    N = next(term),
    Str = case Bin of
              true -> Prefix ++ io_lib:format("~8.2.0B", [N rem 256]);
              false -> Prefix ++ integer_to_list(N)
          end,
    TID = megaco_peer:make_tid(lists:flatten(Str)),
    {TID, megaco_peer:tid_key(TID)}.

lookup_term(Key) ->
    case ets:lookup(?TAB, {term, Key}) of
        [{_, T}] -> T;
        [] -> undefined
    end.

store_term(#{key := Key} = T) -> ets:insert(?TAB, {{term, Key}, T}).

ctx_terms(Ctx) ->
    case ets:lookup(?TAB, {ctx, Ctx}) of
        [{_, Keys}] -> Keys;
        [] -> []
    end.
