%% megaco_peer.erl -- code shared by the megaco_mg / megaco_mgc test peers
%% (Erlang/OTP megaco as a third-party H.248 peer, see README.md).
%%
%% Compiled in memory by the launcher escripts (megaco_mg.escript,
%% megaco_mgc.escript); never commit a .beam.
%%
%% What lives here:
%%  - command-line parsing (parse_args/3) and a few value parsers;
%%  - the transcript writer (a registered process, megaco_peer_log): every
%%    line goes to stdout, and with --log FILE also to FILE together with the
%%    raw messages (text as is, binary as hex);
%%  - the wire tap used by megaco_peer_codec: summarize/1 turns a decoded or
%%    about-to-be-encoded MegacoMessage into one transcript line per
%%    transaction (format: see format_line/3 and README.md);
%%  - megaco start-up with quiet logging, user configuration and the
%%    megaco_tcp / megaco_udp transport set-up for both roles;
%%  - record helpers (termination IDs, context IDs, SDP, MIDs).

-module(megaco_peer).

-include_lib("megaco/include/megaco.hrl").
-include_lib("megaco/include/megaco_message_v3.hrl").

-export([parse_args/3, consult/1, secs_to_ms/1, parse_host/1, parse_mid/1, mid_str/1,
         usage_exit/2,
         start/2, line/1, line/2, finish/1, stats/0, set_hook/1,
         tap/3, tap_error/3,
         user_config/1, encoding_mod/1,
         summarize/1, format_line/3,
         tid_str/1, tid_key/1, ctx_str/1, root_tid/0, is_root/1, is_choose/1,
         is_all/1, make_tid/1,
         sdp_addr/1, sdp_has_choose/1, fill_sdp/3, sdp_group/3,
         err/2, now_ms/0, remember_encoded/2, syntax_error/1, to_version/2, call_result/1, short/1]).

-define(LOG, megaco_peer_log).

%%======================================================================
%% Command line
%%======================================================================

%% Spec: [{"--name", Key, Type}] with Type = string | int | secs | flag |
%% {enum, ["a", "b"]}.  Returns a map Key => Value (flag => true).
parse_args(Args, Spec, Usage) ->
    parse_args(Args, Spec, Usage, #{}).

parse_args([], _Spec, _Usage, Acc) ->
    Acc;
parse_args(["--help" | _], _Spec, Usage, _Acc) ->
    io:put_chars(Usage),
    halt(0);
parse_args([Opt | Rest], Spec, Usage, Acc) ->
    case lists:keyfind(Opt, 1, Spec) of
        {_, Key, flag} ->
            parse_args(Rest, Spec, Usage, Acc#{Key => true});
        {_, Key, Type} ->
            case Rest of
                [Val | Rest2] ->
                    parse_args(Rest2, Spec, Usage,
                               Acc#{Key => parse_val(Opt, Type, Val, Usage)});
                [] ->
                    usage_exit(Usage, io_lib:format("~s needs a value", [Opt]))
            end;
        false ->
            usage_exit(Usage, io_lib:format("unknown option ~s", [Opt]))
    end.

parse_val(_Opt, string, Val, _Usage) ->
    Val;
parse_val(Opt, int, Val, Usage) ->
    case string:to_integer(Val) of
        {N, ""} -> N;
        _ -> usage_exit(Usage, io_lib:format("~s: not an integer: ~s", [Opt, Val]))
    end;
parse_val(Opt, secs, Val, Usage) ->
    case secs_to_ms(Val) of
        {ok, Ms} -> Ms;
        error -> usage_exit(Usage, io_lib:format("~s: not a number of seconds: ~s", [Opt, Val]))
    end;
parse_val(Opt, {enum, Allowed}, Val, Usage) ->
    case lists:member(Val, Allowed) of
        true -> list_to_atom(Val);
        false -> usage_exit(Usage, io_lib:format("~s: one of ~s, not ~s",
                                                 [Opt, lists:join("|", Allowed), Val]))
    end.

%% file:consult/1 that also reads pipes (e.g. bash process substitution).
consult(File) ->
    case file:read_file(File) of
        {ok, Bin} ->
            case erl_scan:string(unicode:characters_to_list(Bin)) of
                {ok, Tokens, _} -> parse_terms(Tokens, [], []);
                {error, E, _} -> {error, E}
            end;
        Error ->
            Error
    end.

parse_terms([], [], Acc) ->
    {ok, lists:reverse(Acc)};
parse_terms([], _Partial, _Acc) ->
    {error, missing_final_dot};
parse_terms([{dot, _} = Dot | Rest], Partial, Acc) ->
    case erl_parse:parse_term(lists:reverse([Dot | Partial])) of
        {ok, Term} -> parse_terms(Rest, [], [Term | Acc]);
        {error, E} -> {error, E}
    end;
parse_terms([T | Rest], Partial, Acc) ->
    parse_terms(Rest, [T | Partial], Acc).

%% "2", "0.5", 2, 0.5 -> {ok, Milliseconds}
secs_to_ms(N) when is_integer(N), N >= 0 -> {ok, N * 1000};
secs_to_ms(F) when is_float(F), F >= 0 -> {ok, round(F * 1000)};
secs_to_ms(S) when is_list(S) ->
    case string:to_integer(S) of
        {N, ""} when N >= 0 -> {ok, N * 1000};
        _ ->
            case string:to_float(S) of
                {F, ""} when F >= 0 -> {ok, round(F * 1000)};
                _ -> error
            end
    end;
secs_to_ms(_) -> error.

usage_exit(Usage, Msg) ->
    io:format(standard_error, "error: ~s~n~n~s", [Msg, Usage]),
    halt(2).

parse_host(Host) ->
    case inet:parse_address(Host) of
        {ok, Ip} -> Ip;
        {error, _} ->
            case inet:getaddr(Host, inet) of
                {ok, Ip} -> Ip;
                {error, _} -> Host
            end
    end.

%% "<mg1.example.net>", "<mg1.example.net>:2944", "[127.0.0.1]:2944",
%% anything else = deviceName.
parse_mid([$< | Rest]) ->
    case string:split(Rest, ">") of
        [Name, ""] -> {domainName, #'DomainName'{name = Name}};
        [Name, [$: | P]] -> {domainName, #'DomainName'{name = Name, portNumber = list_to_integer(P)}}
    end;
parse_mid([$[ | Rest]) ->
    [Addr, Tail] = string:split(Rest, "]"),
    {ok, {A, B, C, D}} = inet:parse_ipv4strict_address(Addr),
    Port = case Tail of
               "" -> asn1_NOVALUE;
               [$: | P] -> list_to_integer(P)
           end,
    {ip4Address, #'IP4Address'{address = [A, B, C, D], portNumber = Port}};
parse_mid(Name) ->
    {deviceName, Name}.

mid_str({domainName, #'DomainName'{name = N, portNumber = P}}) ->
    "<" ++ N ++ ">" ++ port_suffix(P);
mid_str({ip4Address, #'IP4Address'{address = A, portNumber = P}}) ->
    "[" ++ lists:join(".", [integer_to_list(X) || X <- A]) ++ "]" ++ port_suffix(P);
mid_str({deviceName, N}) ->
    N;
mid_str(Other) ->
    sanitize(io_lib:format("~w", [Other])).

port_suffix(asn1_NOVALUE) -> "";
port_suffix(P) -> ":" ++ integer_to_list(P).

%%======================================================================
%% Start-up, transcript writer
%%======================================================================

%% Opts: role => "MG" | "MGC", log => File | undefined, encoding => atom,
%% verbose => bool.  Starts the transcript writer and megaco.
start(Role, Opts) ->
    quiet_logger(maps:get(verbose, Opts, false)),
    persistent_term:put({?MODULE, role}, Role),
    persistent_term:put({?MODULE, inner}, encoding_mod(maps:get(encoding, Opts))),
    persistent_term:put({?MODULE, counters}, counters:new(4, [write_concurrency])),
    persistent_term:put({?MODULE, hook}, fun(_, _) -> ok end),
    ets:new(megaco_peer_encoded, [named_table, public, set]),
    persistent_term:put({?MODULE, arities}, record_arities()),
    Fd = case maps:get(log, Opts, undefined) of
             undefined -> undefined;
             File ->
                 {ok, F} = file:open(File, [write, binary]),
                 F
         end,
    Pid = spawn(fun() -> log_loop(Fd) end),
    register(?LOG, Pid),
    case application:ensure_all_started(megaco) of
        {ok, _} -> ok;
        {error, R} ->
            line("~s DONE FAIL reason=megaco_start ~p", [Role, R]),
            finish(1)
    end.

%% megaco reports problems through logger; keep stdout for the transcript.
quiet_logger(Verbose) ->
    _ = logger:remove_handler(default),
    Level = case Verbose of true -> debug; false -> error end,
    ok = logger:add_handler(default, logger_std_h,
                            #{config => #{type => standard_error}, level => Level}),
    ok = logger:set_primary_config(level, Level).

set_hook(Fun) when is_function(Fun, 2) ->
    persistent_term:put({?MODULE, hook}, Fun).

line(Text) ->
    ?LOG ! {line, unicode:characters_to_binary(Text)},
    ok.

line(Fmt, Args) ->
    line(io_lib:format(Fmt, Args)).

%% {MessagesSent, MessagesReceived, MillisecondsSinceLastMessage | undefined}
stats() ->
    C = persistent_term:get({?MODULE, counters}),
    Last = counters:get(C, 3),
    {counters:get(C, 1), counters:get(C, 2),
     case Last of 0 -> undefined; _ -> now_ms() - Last end}.

now_ms() -> erlang:system_time(millisecond).

%% Flush the transcript and halt the VM.
finish(Status) ->
    Ref = make_ref(),
    ?LOG ! {sync, self(), Ref},
    receive {synced, Ref} -> ok after 2000 -> ok end,
    halt(Status).

log_loop(Fd) ->
    receive
        {line, Bin} ->
            io:put_chars(standard_io, [Bin, $\n]),
            write_fd(Fd, [stamp(), " ", Bin, $\n]),
            log_loop(Fd);
        {raw, Dir, Bin} ->
            write_fd(Fd, [stamp(), " ---- ", Dir, " ", integer_to_list(byte_size(Bin)),
                          " octets\n", raw_text(Bin), "\n"]),
            log_loop(Fd);
        {raw, Dir, Bin, Msg} ->
            write_fd(Fd, [stamp(), " ---- ", Dir, " ", integer_to_list(byte_size(Bin)),
                          " octets\n", raw_text(Bin), "\n", as_text(Msg)]),
            log_loop(Fd);
        {sync, From, Ref} ->
            _ = Fd =/= undefined andalso file:sync(Fd),
            From ! {synced, Ref},
            log_loop(Fd)
    end.

write_fd(undefined, _) -> ok;
write_fd(Fd, Data) -> file:write(Fd, Data).

stamp() ->
    {_, {H, M, S}} = calendar:local_time(),
    io_lib:format("~2..0w:~2..0w:~2..0w.~3..0w", [H, M, S, erlang:system_time(millisecond) rem 1000]).

%% Binary messages: also megaco's pretty text rendering of what was decoded
%% (or is being encoded), to read the hex by.
as_text(Msg) ->
    case persistent_term:get({?MODULE, inner}) of
        megaco_binary_encoder ->
            V = (Msg#'MegacoMessage'.mess)#'Message'.version,
            case catch megaco_pretty_text_encoder:encode_message([], V, Msg) of
                {ok, Text} -> ["(as text)\n", string:trim(Text, trailing), "\n"];
                _ -> "(no text rendering)\n"
            end;
        _ -> ""
    end.

raw_text(Bin) ->
    case persistent_term:get({?MODULE, inner}) of
        megaco_binary_encoder ->
            [io_lib:format("~2.16.0b", [B]) || <<B>> <= Bin];
        _ ->
            string:trim(Bin, trailing)
    end.

%%======================================================================
%% megaco configuration
%%======================================================================

encoding_mod(text) -> megaco_pretty_text_encoder;
encoding_mod(compact) -> megaco_compact_text_encoder;
encoding_mod(binary) -> megaco_binary_encoder.

%% The megaco user configuration for megaco:start_user/2.  Every message
%% goes through megaco_peer_codec (the wire tap), which delegates to the
%% real encoder stored by start/2.
user_config(#{user_mod := UserMod, transport := Transport, version := Version,
              request_timeout := ReqMs}) ->
    SendMod = case Transport of tcp -> megaco_tcp; udp -> megaco_udp end,
    %% TCP: one timeout, no retransmission.  UDP: retransmit every second
    %% (H.248.1 Annex D.1 style) until the request timeout is used up.
    ReqTimer = case Transport of
                   tcp -> ReqMs;
                   udp -> #megaco_incr_timer{wait_for = 1000, factor = 1, incr = 0,
                                             max_retries = max(0, ReqMs div 1000 - 1)}
               end,
    [{user_mod, UserMod},
     {send_mod, SendMod},
     {encoding_mod, megaco_peer_codec},
     {encoding_config, []},
     {protocol_version, Version},
     {request_timer, ReqTimer},
     {long_request_timer, 3 * ReqMs},
     {reply_timer, 30000},
     {pending_timer, 1000}].

%%----------------------------------------------------------------------
%% Records of protocol versions 1, 2 and 3.  The peers build and match v3
%% records (megaco_message_v3.hrl) only; megaco's v1/v2 encoders want the
%% shorter v1/v2 records.  Every v1/v2 record is a prefix of its v3
%% namesake (the later versions only append fields), so megaco_peer_codec
%% truncates records before encoding v1/v2 and pads decoded v1/v2 records
%% with asn1_NOVALUE (the default of every appended field).
%%----------------------------------------------------------------------

record_arities() ->
    Dir = code:lib_dir(megaco, include),
    Fields = fun(V) ->
                     File = filename:join(Dir, "megaco_message_v" ++ integer_to_list(V) ++ ".hrl"),
                     {ok, Forms} = epp:parse_file(File, []),
                     maps:from_list([{Name, length(Fs)} || {attribute, _, record, {Name, Fs}} <- Forms])
             end,
    {F1, F2, F3} = {Fields(1), Fields(2), Fields(3)},
    maps:from_list([{Name, {maps:get(Name, F1, undefined), maps:get(Name, F2, undefined), N3}}
                    || {Name, N3} <- maps:to_list(F3)]).

%% Term (a message, transaction, ...) with its records resized for version V.
to_version(Term, V) when V =:= 1; V =:= 2; V =:= 3 ->
    resize(Term, V, persistent_term:get({?MODULE, arities}));
to_version(Term, _V) ->
    Term.

resize([H | T], V, A) ->
    [resize(H, V, A) | resize(T, V, A)];
resize(T, V, A) when is_tuple(T), tuple_size(T) > 0 ->
    L = [resize(E, V, A) || E <- tuple_to_list(T)],
    case maps:find(element(1, T), A) of
        {ok, Arities} when is_integer(element(V, Arities)) ->
            N = element(V, Arities) + 1,
            Len = length(L),
            list_to_tuple(if
                              Len > N -> lists:sublist(L, N);
                              Len < N -> L ++ lists:duplicate(N - Len, asn1_NOVALUE);
                              true -> L
                          end);
        _ ->
            list_to_tuple(L)
    end;
resize(X, _V, _A) ->
    X.

%%======================================================================
%% Wire tap (called by megaco_peer_codec in megaco's processes)
%%======================================================================

tap(Dir, Msg, Bin) ->
    Role = persistent_term:get({?MODULE, role}),
    C = persistent_term:get({?MODULE, counters}),
    counters:add(C, case Dir of send -> 1; recv -> 2 end, 1),
    counters:put(C, 3, now_ms()),
    Msg2 = resolve_encoded(Msg),
    Sums = try summarize(Msg2)
           catch Class:Reason ->
                   [#{kind => "Unparsed", tid => "-", cmds => [], result => "-",
                      extra => [{"reason", sanitize(io_lib:format("~w:~w", [Class, Reason]))}]}]
           end,
    DirStr = dir_str(Dir),
    [?LOG ! {line, unicode:characters_to_binary(format_line(Role, DirStr, S))} || S <- Sums],
    ?LOG ! {raw, DirStr, iolist_to_binary(Bin), Msg2},
    Hook = persistent_term:get({?MODULE, hook}),
    catch Hook(Dir, Sums),
    ok.

tap_error(Dir, Reason, Bin) ->
    Role = persistent_term:get({?MODULE, role}),
    What = case Dir of send -> "EncodeError"; recv -> "DecodeError" end,
    Short = sanitize(lists:sublist(lists:flatten(io_lib:format("~0p", [Reason])), 200)),
    line("~s ~s ~s - - ERR reason=~s", [Role, dir_str(Dir), What, Short]),
    case Bin of
        undefined -> ok;
        _ -> ?LOG ! {raw, dir_str(Dir), iolist_to_binary(Bin)}
    end,
    ok.

dir_str(send) -> "SEND";
dir_str(recv) -> "RECV".

%% Transcript line:
%%   ROLE DIR KIND TID COMMANDS RESULT [key=value ...]
format_line(Role, Dir, #{kind := K, tid := T, cmds := Cmds, result := R, extra := E}) ->
    CmdStr = case Cmds of [] -> "-"; _ -> lists:join(",", Cmds) end,
    [Role, " ", Dir, " ", K, " ", T, " ", CmdStr, " ", R,
     [[" ", Key, "=", Val] || {Key, Val} <- merge_extra(E)]].

%% Same key several times (one per command): one key, values comma-joined,
%% in first-seen order.
merge_extra(E) ->
    Keys = lists:foldl(fun({K, _}, Acc) ->
                               case lists:member(K, Acc) of true -> Acc; false -> Acc ++ [K] end
                       end, [], E),
    [{K, lists:join(",", [sanitize(V) || {K2, V} <- E, K2 =:= K])} || K <- Keys].

sanitize(S) ->
    [case Ch of $\s -> $_; $\t -> $_; $\n -> $_; $\r -> $_; _ -> Ch end
     || Ch <- lists:flatten(io_lib:format("~ts", [S]))].

%%----------------------------------------------------------------------
%% summarize(MegacoMessage) -> [#{kind, tid, cmds, result, extra}]
%%----------------------------------------------------------------------

summarize(#'MegacoMessage'{mess = #'Message'{messageBody = Body}}) ->
    case Body of
        {transactions, Ts} -> lists:append([trans(T) || T <- Ts]);
        {messageError, ED} ->
            [#{kind => "MessageError", tid => "-", cmds => [], result => ed_result(ED),
               extra => ed_text(ED)}]
    end.

trans({transactionRequest, TR}) ->
    TID = element(2, TR),
    ARs = element(3, TR),
    {Cmds, Extra} = lists:foldl(fun(AR, {C0, E0}) ->
                                        {C1, E1} = action_req(AR),
                                        {C0 ++ C1, E0 ++ E1}
                                end, {[], []}, ARs),
    [#{kind => "Request", tid => integer_to_list(TID), cmds => Cmds, result => "-",
       extra => Extra}];
trans({transactionPending, TP}) ->
    [#{kind => "Pending", tid => integer_to_list(element(2, TP)), cmds => [],
       result => "-", extra => []}];
trans({transactionReply, TR}) ->
    TID = element(2, TR),
    {Cmds, Errs, Extra} =
        case element(4, TR) of
            {transactionError, ED} ->
                {[], [ED], ed_text(ED)};
            {actionReplies, ARs} ->
                lists:foldl(fun(AR, {C0, Er0, E0}) ->
                                    {C1, Er1, E1} = action_reply(AR),
                                    {C0 ++ C1, Er0 ++ Er1, E0 ++ E1}
                            end, {[], [], []}, ARs);
            Other ->
                {[], [], [{"result", io_lib:format("~w", [Other])}]}
        end,
    Result = case Errs of [] -> "OK"; [First | _] -> ed_result(First) end,
    [#{kind => "Reply", tid => integer_to_list(TID), cmds => Cmds, result => Result,
       extra => Extra}];
trans({transactionResponseAck, Acks}) ->
    [#{kind => "Ack", tid => ack_range(A), cmds => [], result => "-", extra => []}
     || A <- Acks];
trans({segmentReply, SR}) ->
    [#{kind => "SegmentReply", tid => integer_to_list(element(2, SR)), cmds => [],
       result => "-", extra => []}];
trans(Other) ->
    [#{kind => "Unknown", tid => "-", cmds => [], result => "-",
       extra => [{"what", io_lib:format("~w", [element(1, Other)])}]}].

%% megaco encodes a reply transaction on its own first (to keep it for
%% retransmission) and puts the bytes into the message; megaco_peer_codec's
%% encode_transaction/3 remembered which transaction they came from.
remember_encoded(Trans, Bin) ->
    ets:insert(megaco_peer_encoded, {iolist_to_binary(Bin), Trans}).

resolve_encoded(#'MegacoMessage'{mess = #'Message'{messageBody = {transactions, Ts}} = M} = MM) ->
    MM#'MegacoMessage'{mess = M#'Message'{messageBody = {transactions, [pre_encoded(T) || T <- Ts]}}};
resolve_encoded(MM) ->
    MM.

pre_encoded(Bin) when is_binary(Bin) ->
    case ets:take(megaco_peer_encoded, Bin) of
        [{_, Trans}] -> Trans;
        [] -> {unknown_encoded, Bin}
    end;
pre_encoded(T) -> T.

ack_range(#'TransactionAck'{firstAck = F, lastAck = L}) when is_integer(L), L =/= F ->
    integer_to_list(F) ++ "-" ++ integer_to_list(L);
ack_range(#'TransactionAck'{firstAck = F}) ->
    integer_to_list(F).

ed_result(#'ErrorDescriptor'{errorCode = C}) -> "ERR=" ++ integer_to_list(C).

ed_text(#'ErrorDescriptor'{errorText = T}) when is_list(T) -> [{"text", T}];
ed_text(_) -> [].

action_req(AR) ->
    Ctx = element(2, AR),
    CRs = element(5, AR),
    Sums = [cmd_req(element(2, CR)) || CR <- CRs],
    {[N || {N, _} <- Sums], [{"ctx", ctx_str(Ctx)} | lists:append([E || {_, E} <- Sums])]}.

action_reply(AR) ->
    Ctx = element(2, AR),
    AErr = case element(3, AR) of
               #'ErrorDescriptor'{} = ED -> [ED];
               _ -> []
           end,
    CReps = case element(5, AR) of L when is_list(L) -> L; _ -> [] end,
    Sums = [cmd_reply(C) || C <- CReps],
    {[N || {N, _, _} <- Sums],
     lists:append([Er || {_, Er, _} <- Sums]) ++ AErr,
     [{"ctx", ctx_str(Ctx)} | lists:append([E || {_, _, E} <- Sums])]}.

cmd_name(addReq) -> "Add";
cmd_name(moveReq) -> "Move";
cmd_name(modReq) -> "Modify";
cmd_name(subtractReq) -> "Subtract";
cmd_name(auditCapRequest) -> "AuditCapabilities";
cmd_name(auditValueRequest) -> "AuditValue";
cmd_name(notifyReq) -> "Notify";
cmd_name(serviceChangeReq) -> "ServiceChange";
cmd_name(addReply) -> "Add";
cmd_name(moveReply) -> "Move";
cmd_name(modReply) -> "Modify";
cmd_name(subtractReply) -> "Subtract";
cmd_name(auditCapReply) -> "AuditCapabilities";
cmd_name(auditValueReply) -> "AuditValue";
cmd_name(notifyReply) -> "Notify";
cmd_name(serviceChangeReply) -> "ServiceChange";
cmd_name(Other) -> atom_to_list(Other).

cmd_req({Tag, #'AmmRequest'{terminationID = TIDs, descriptors = Ds}}) ->
    {cmd_name(Tag), terms(TIDs) ++ descs_extra(Ds)};
cmd_req({subtractReq, #'SubtractRequest'{terminationID = TIDs, auditDescriptor = AD}}) ->
    {"Subtract", terms(TIDs) ++ audit_extra(AD)};
cmd_req({Tag, #'AuditRequest'{terminationID = TID, auditDescriptor = AD}}) ->
    {cmd_name(Tag), terms([TID]) ++ audit_extra(AD)};
cmd_req({notifyReq, #'NotifyRequest'{terminationID = TIDs, observedEventsDescriptor = OED}}) ->
    #'ObservedEventsDescriptor'{requestId = RID, observedEventLst = Evs} = OED,
    {"Notify", terms(TIDs) ++ [{"rid", integer_to_list(RID)}]
         ++ [{"events", E#'ObservedEvent'.eventName} || E <- Evs]};
cmd_req({serviceChangeReq, #'ServiceChangeRequest'{terminationID = TIDs,
                                                   serviceChangeParms = P}}) ->
    {"ServiceChange",
     terms(TIDs) ++
         [{"method", atom_to_list(P#'ServiceChangeParm'.serviceChangeMethod)}] ++
         [{"reason", R} || R <- reason_list(P#'ServiceChangeParm'.serviceChangeReason)] ++
         opt("ver", P#'ServiceChangeParm'.serviceChangeVersion) ++
         profile(P#'ServiceChangeParm'.serviceChangeProfile)};
cmd_req({Tag, _}) ->
    {cmd_name(Tag), []}.

reason_list([R | _]) when is_list(R) -> [R];
reason_list(_) -> [].

profile(#'ServiceChangeProfile'{profileName = N}) -> [{"profile", N}];
profile(_) -> [].

opt(_K, asn1_NOVALUE) -> [];
opt(K, V) when is_integer(V) -> [{K, integer_to_list(V)}];
opt(K, V) when is_list(V) -> [{K, V}];
opt(K, V) -> [{K, io_lib:format("~w", [V])}].

cmd_reply({Tag, #'AmmsReply'{terminationID = TIDs, terminationAudit = TA}}) ->
    {cmd_name(Tag), [], terms(TIDs) ++ descs_extra(list_or_empty(TA))};
cmd_reply({Tag, {auditResult, #'AuditResult'{terminationID = TID,
                                             terminationAuditResult = Res}}}) ->
    {cmd_name(Tag), [], terms([TID]) ++ descs_extra(list_or_empty(Res))};
cmd_reply({Tag, {auditResultTermList, #'TermListAuditResult'{terminationIDList = TIDs,
                                                             terminationAuditResult = Res}}}) ->
    {cmd_name(Tag), [], terms(TIDs) ++ descs_extra(list_or_empty(Res))};
cmd_reply({Tag, {contextAuditResult, TIDs}}) ->
    {cmd_name(Tag), [], terms(TIDs)};
cmd_reply({Tag, {error, #'ErrorDescriptor'{} = ED}}) ->
    {cmd_name(Tag), [ED], []};
cmd_reply({notifyReply, #'NotifyReply'{terminationID = TIDs, errorDescriptor = ED}}) ->
    {"Notify", [E || E = #'ErrorDescriptor'{} <- [ED]], terms(TIDs)};
cmd_reply({serviceChangeReply, #'ServiceChangeReply'{terminationID = TIDs,
                                                     serviceChangeResult = Res}}) ->
    case Res of
        {errorDescriptor, ED} ->
            {"ServiceChange", [ED], terms(TIDs)};
        {serviceChangeResParms, P} ->
            {"ServiceChange", [],
             terms(TIDs) ++ opt("ver", P#'ServiceChangeResParm'.serviceChangeVersion) ++
                 case P#'ServiceChangeResParm'.serviceChangeMgcId of
                     asn1_NOVALUE -> [];
                     Mid -> [{"mgcid", mid_str(Mid)}]
                 end ++ profile(P#'ServiceChangeResParm'.serviceChangeProfile)}
    end;
cmd_reply({Tag, _}) ->
    {cmd_name(Tag), [], []}.

list_or_empty(L) when is_list(L) -> L;
list_or_empty(_) -> [].

terms(TIDs) -> [{"term", tid_str(T)} || T <- TIDs].

audit_extra(#'AuditDescriptor'{auditToken = Toks}) when is_list(Toks), Toks =/= [] ->
    [{"audit", token_name(T)} || T <- Toks];
audit_extra(#'AuditDescriptor'{}) -> [{"audit", "empty"}];
audit_extra(_) -> [].

token_name(T) when is_atom(T) ->
    S = atom_to_list(T),
    case lists:suffix("Token", S) of
        true -> lists:sublist(S, length(S) - 5);
        false -> S
    end;
token_name(T) -> io_lib:format("~w", [T]).

%% key=value extras for descriptors of a request or a reply.
descs_extra(Ds) ->
    lists:append([desc_extra(D) || D <- Ds]).

desc_extra({mediaDescriptor, #'MediaDescriptor'{streams = Streams}}) ->
    lists:append([stream_extra(P) || P <- stream_parms(Streams)]);
desc_extra({eventsDescriptor, #'EventsDescriptor'{requestID = RID, eventList = Evs}}) ->
    opt("rid", RID) ++ [{"events", E#'RequestedEvent'.pkgdName} || E <- Evs];
desc_extra({statisticsDescriptor, Stats}) when is_list(Stats) ->
    [{"stats", S#'StatisticsParameter'.statName} || S <- Stats];
desc_extra({packagesDescriptor, Pkgs}) when is_list(Pkgs) ->
    [{"packages", P#'PackagesItem'.packageName ++ "-" ++ integer_to_list(P#'PackagesItem'.packageVersion)}
     || P <- Pkgs];
desc_extra({Tag, _}) when is_atom(Tag) ->
    [{"desc", strip_suffix(atom_to_list(Tag), "Descriptor")}];
desc_extra(_) -> [].

strip_suffix(S, Suf) ->
    case lists:suffix(Suf, S) of
        true -> lists:sublist(S, length(S) - length(Suf));
        false -> S
    end.

stream_parms({oneStream, P}) -> [P];
stream_parms({multiStream, SDs}) -> [SD#'StreamDescriptor'.streamParms || SD <- SDs];
stream_parms(_) -> [].

stream_extra(#'StreamParms'{localControlDescriptor = LC, localDescriptor = L,
                            remoteDescriptor = R} = SP) ->
    Mode = case LC of
               #'LocalControlDescriptor'{streamMode = M} when is_atom(M), M =/= asn1_NOVALUE ->
                   [{"mode", atom_to_list(M)}];
               _ -> []
           end,
    Stats = case SP of
                #'StreamParms'{statisticsDescriptor = S} when is_list(S) ->
                    [{"stats", X#'StatisticsParameter'.statName} || X <- S];
                _ -> []
            end,
    Mode ++ sdp_extra("local", L) ++ sdp_extra("remote", R) ++ Stats.

sdp_extra(Key, #'LocalRemoteDescriptor'{} = D) ->
    case sdp_addr(D) of
        undefined -> [{Key, "sdp"}];
        {Ip, Port} -> [{Key, Ip ++ ":" ++ Port}]
    end;
sdp_extra(_, _) -> [].

%%======================================================================
%% Record helpers
%%======================================================================

ctx_str(0) -> "-";
ctx_str(?megaco_choose_context_id) -> "$";
ctx_str(?megaco_all_context_id) -> "*";
ctx_str(N) when is_integer(N) -> integer_to_list(N);
ctx_str(X) -> io_lib:format("~w", [X]).

root_tid() -> ?megaco_root_termination_id.

is_root(#megaco_term_id{id = [Root]}) -> string:lowercase(Root) =:= "root";
is_root(_) -> false.

is_choose(#megaco_term_id{id = Levels}) -> lists:member("$", Levels);
is_choose(_) -> false.

is_all(#megaco_term_id{id = Levels}) -> lists:member("*", Levels);
is_all(_) -> false.

tid_str(#megaco_term_id{} = T) ->
    case is_root(T) of
        true -> "ROOT";
        false -> lists:join("/", T#megaco_term_id.id)
    end;
tid_str(Other) -> io_lib:format("~w", [Other]).

%% Key for a termination in the MG's tables: lower case "a/b/c".
tid_key(T) -> string:lowercase(lists:flatten(tid_str(T))).

%% "rtp/1" -> #megaco_term_id{id = ["rtp", "1"]}; "$", "*" wildcards.
make_tid("ROOT") -> ?megaco_root_termination_id;
make_tid(Str) ->
    Levels = string:split(Str, "/", all),
    Wild = lists:any(fun(L) -> L =:= "$" orelse L =:= "*" end, Levels),
    #megaco_term_id{contains_wildcards = Wild, id = Levels}.

%%----------------------------------------------------------------------
%% SDP in Local/Remote descriptors: megaco keeps each SDP line as a
%% PropertyParm with name "v", "c", "m", ... and value [RestOfLine].
%%----------------------------------------------------------------------

%% -> {Ip, Port} from the first property group's c= and m= lines.
sdp_addr(#'LocalRemoteDescriptor'{propGrps = [Grp | _]}) ->
    Ip = case [V || #'PropertyParm'{name = "c", value = [V]} <- Grp] of
             [C | _] -> lists:last(string:lexemes(C, " "));
             [] -> "?"
         end,
    Port = case [V || #'PropertyParm'{name = "m", value = [V]} <- Grp] of
               [M | _] ->
                   case string:lexemes(M, " ") of
                       [_Media, P | _] -> P;
                       _ -> "?"
                   end;
               [] -> "?"
           end,
    case {Ip, Port} of
        {"?", "?"} -> undefined;
        _ -> {Ip, Port}
    end;
sdp_addr(_) -> undefined.

sdp_has_choose(#'LocalRemoteDescriptor'{propGrps = Grps}) ->
    lists:any(fun(#'PropertyParm'{value = Vs}) ->
                      lists:any(fun(V) -> lists:member("$", string:lexemes(V, " ")) end, Vs)
              end, lists:append(Grps));
sdp_has_choose(_) -> false.

%% Replace "$" with Ip in c= and o= lines, with Port in m= lines.
fill_sdp(#'LocalRemoteDescriptor'{propGrps = Grps} = D, Ip, Port) ->
    Fill = fun(#'PropertyParm'{name = N, value = Vs} = P) ->
                   With = case N of "m" -> integer_to_list(Port); _ -> Ip end,
                   P#'PropertyParm'{value = [lists:flatten(lists:join(" ", [case W of "$" -> With; _ -> W end
                                                                            || W <- string:lexemes(V, " ")]))
                                             || V <- Vs]}
           end,
    D#'LocalRemoteDescriptor'{propGrps = [[Fill(P) || P <- G] || G <- Grps]}.

%% One SDP property group: v=0, c=IN IP4 Ip, m=audio Port RTP/AVP 0
%% (Ip/Port may be "$").
sdp_group(Ip, Port, Payload) ->
    PortS = case Port of _ when is_integer(Port) -> integer_to_list(Port); _ -> Port end,
    #'LocalRemoteDescriptor'{
       propGrps = [[#'PropertyParm'{name = "v", value = ["0"]},
                    #'PropertyParm'{name = "c", value = ["IN IP4 " ++ Ip]},
                    #'PropertyParm'{name = "m", value = ["audio " ++ PortS ++ " RTP/AVP " ++ Payload]}]]}.

err(Code, Text) -> #'ErrorDescriptor'{errorCode = Code, errorText = Text}.

%% megaco:call/3 returns {ProtocolVersion, UserReply}; normalise UserReply:
%% {ok, [ActionReply]} | {trans_error, Code} (TransactionReply with an
%% error descriptor) | {failed, Reason} (timeout, disconnect, ...).
call_result({_V, {ok, ARs}}) when is_list(ARs) -> {ok, ARs};
call_result({_V, ARs}) when is_list(ARs) -> {ok, ARs};
call_result({_V, {error, #'ErrorDescriptor'{errorCode = C}}}) -> {trans_error, C};
call_result({_V, {error, R}}) -> {failed, R};
call_result(Other) -> {failed, Other}.

%% A term as one short token for a transcript line.
short(T) when is_list(T) -> sanitize(T);
short(T) when is_integer(T) -> integer_to_list(T);
short(T) when is_atom(T) -> atom_to_list(T);
short(T) -> sanitize(lists:sublist(lists:flatten(io_lib:format("~0p", [T])), 160)).

%% megaco_user:handle_syntax_error/3 for both peers.  Answer the first few
%% undecodable messages with an error message (megaco does that on
%% 'reply'), then stay silent: two peers that each answer the other's
%% error messages with errors would loop for ever (e.g. over UDP when both
%% disagree on the version).
syntax_error(#'ErrorDescriptor'{errorCode = Code}) ->
    C = persistent_term:get({?MODULE, counters}),
    counters:add(C, 4, 1),
    Role = persistent_term:get({?MODULE, role}),
    case counters:get(C, 4) =< 5 of
        true ->
            line("~s INFO syntax_error code=~w answered=yes", [Role, Code]),
            reply;
        false ->
            line("~s INFO syntax_error code=~w answered=no", [Role, Code]),
            no_reply
    end.
