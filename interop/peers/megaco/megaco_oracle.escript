#!/usr/bin/env escript
%% -*- erlang -*-
%%! -noshell
%%
%% megaco_oracle.escript -- Erlang/OTP megaco as a reference ("oracle") for
%% the iq-codec H.248.1 text codec.
%%
%% Tested with Debian erlang-megaco (OTP 25, megaco-4.4.2).  Needs only the
%% megaco application's beam files on the code path (the Debian packages
%% erlang-base + erlang-megaco); it starts no megaco processes.
%%
%% Usage (many files per invocation; VM start-up is the slow part):
%%
%%   escript megaco_oracle.escript canon     OUTDIR FILE...
%%   escript megaco_oracle.escript encode    OUTDIR FILE...
%%   escript megaco_oracle.escript roundtrip OUTDIR FILE...
%%   escript megaco_oracle.escript time      N FILE...
%%   escript megaco_oracle.escript time-flex N FILE...
%%
%%  canon     decode each FILE, write OUTDIR/<base>.term (canonical term,
%%            see below) or OUTDIR/<base>.err; print "OK <file>" or
%%            "ERR <file> <short reason>" per file.
%%  encode    decode, then re-encode with megaco's pretty and compact text
%%            encoders of the message's own version; write
%%            OUTDIR/<base>.pretty.txt and OUTDIR/<base>.compact.txt (or
%%            OUTDIR/<base>.err).  Prints OK/ERR like canon.
%%  roundtrip canon(FILE) =?= canon(decode(pretty(FILE))) =?= canon(decode(
%%            compact(FILE))); writes <base>.term, .pretty.txt, .compact.txt,
%%            prints "SAME <file>", "ERR <file> <reason>" (original does
%%            not decode) or "DIFF <file> LEG..." where each LEG is
%%            "pretty"/"compact" (terms differ; <base>.pretty.term and
%%            <base>.compact.term are kept for diffing) or
%%            "pretty-encode:R", "pretty-redecode:R" (likewise compact).
%%  time      decode+encode every FILE N times (after one warm-up pass) and
%%            print the mean microseconds per message, one line each:
%%              original decode  X   (decode of the FILE bytes as given)
%%              pretty decode    X   (decode of megaco's pretty encoding)
%%              pretty encode    X   (encode of the decoded record)
%%              compact decode   X   (decode of megaco's compact encoding)
%%              compact encode   X
%%            Files that do not decode, or whose megaco encodings do not
%%            decode again, are skipped (reported on stderr).
%%            Decoding uses megaco's Erlang scanner (EncodingConfig []).
%%  time-flex as time, but the decodes use megaco's flex scanner, the C
%%            port driver (EncodingConfig [{flex, Port}]), where the
%%            installed megaco has it. On the Debian build here it was
%%            slower than the Erlang scanner (BENCHMARKS.md), which is why
%%            `time` is the one the comparison scripts use.
%%
%% <base> is the file name without directory and without its last
%% extension (001_foo.txt -> 001_foo, x.pretty.txt -> x.pretty).
%%
%% Exit status: 0 if every file was OK/SAME, 1 otherwise, 2 on usage error.
%%
%% ---------------------------------------------------------------------
%% megaco API calls used (identical for every protocol version):
%%
%%   Version detection: megaco_pretty_text_encoder:version_of([], Bin)
%%     -> {ok, V}; the scanner reads it from "MEGACO/V" or "!/V".
%%   Decode:  megaco_pretty_text_encoder:decode_message([], V, Bin)
%%            megaco_compact_text_encoder:decode_message([], V, Bin)
%%     With EncodingConfig [] the text decoders ignore the V argument and
%%     choose the parser from the header version themselves:
%%     1 -> megaco_text_parser_v1, 2 -> _v2, 3 -> _v3 (anything else:
%%     {error,{unsupported_version,V}}).  The two modules share one scanner
%%     and parser, so pretty and compact decoding are the same function.
%%     The result uses the record shapes of megaco_message_v1/v2/v3.hrl
%%     of that version (v1 records have fewer fields than v3 ones).
%%   Encode:  megaco_pretty_text_encoder:encode_message([], V, Msg)
%%            megaco_compact_text_encoder:encode_message([], V, Msg)
%%     -> {ok, Bin}; V = the header version, so v1 messages are written
%%     by megaco_{pretty,compact}_text_encoder_v1 etc.
%%
%% ---------------------------------------------------------------------
%% Canonical form (.term files) and what "same meaning" is
%%
%% Two H.248 texts have the SAME MEANING here iff megaco's text decoder
%% (of their header version) turns them into the same abstract message
%% (the ASN.1 value of H.248.1 Annex A, as megaco's records), after the
%% normalisations N1..N3 below.  Order is significant wherever the abstract
%% syntax is a SEQUENCE OF (descriptors in a command, commands, property
%% parameters, SDP lines, ...); the header version is part of the meaning
%% (a v1 and a v3 message never compare equal).
%%
%% What megaco's decoder itself already normalises (so no work here):
%%  - token spelling: long/short/any case tokens, O-/W- prefixes in any case;
%%  - whitespace, line ends (LF, CR, CRLF), comments (";" to end of line);
%%  - ALL unquoted text is lower-cased by the scanner: mId domain names,
%%    device names, MTP addresses, termination IDs (ROOT -> "root"),
%%    package/item names, property values, parameter names, profile names,
%%    digit-map names.  Quoted strings ("...") keep their case, and a
%%    value may be quoted or not: `x = "abc"` and `x = abc` decode alike
%%    (`x = "ABC"` and `x = ABC` do not, but compare equal after N2);
%%  - SDP in Local/Remote becomes property groups (a new group at each
%%    "v=" line), one PropertyParm per line: name = text before the first
%%    "=" (case kept), value = [rest of line] (kept verbatim, incl. any
%%    trailing blanks; leading blanks/empty lines are skipped, blanks
%%    before the closing brace are trimmed);
%%  - IPv4/IPv6 mIds become octet lists (so IPv6 "::" compression forms
%%    are equal); port numbers, IDs, durations etc. become integers
%%    (leading zeros vanish);
%%  - timestamps become {'TimeNotation', Date, Time} strings.
%%  No line numbers or other positions survive in the decoded records.
%%
%% What this script normalises on top (each one is needed for a pretty
%% or compact re-encoding by megaco to give the same .term, or is a
%% property of the H.248 syntax megaco leaves raw):
%%  N1 DigitMapValue.digitMapBody: megaco keeps the raw characters between
%%     the braces.  The digit-map grammar allows LWSP around "(", "|" and ")",
%%     and is case-insensitive, so all SP/HTAB/CR/LF are removed and the
%%     body lower-cased.
%%  N2 Values of PropertyParm (everywhere except inside Local/Remote, i.e.
%%     not SDP), EventParameter, SigParameter and StatisticsParameter are
%%     lower-cased.  Reason: megaco lower-cases every unquoted value but
%%     keeps the case of a quoted one, and its encoders write a value
%%     unquoted whenever it has no character that needs quoting, so
%%     `p = "Access"` comes back from a megaco round trip as `p = access`.
%%     H.248.1 Annex B.2 says everything in the text encoding is case
%%     insensitive except SDP, so these are taken as the same meaning.
%%     Quoted texts that megaco always re-quotes (ServiceChange Reason,
%%     error text) and SDP lines keep their case.
%%  N3 MTP addresses ({mtpAddress, Hex} as mId, ServiceChangeAddress or
%%     MgcIdToTry): megaco keeps the hex digits as written; HEXDIG is case
%%     insensitive, so they are lower-cased.
%%
%% Printing: io_lib:format("~p.~n", [Term]) with the default line width
%% (deterministic for a given term; strings print as "..." when
%% printable), then every character above 126 is written as the Erlang
%% escape \x{HH}, so .term files are plain ASCII and still valid Erlang
%% terms (octet lists such as the authentication header's would otherwise
%% print as latin-1 text).
%% ---------------------------------------------------------------------

-mode(compile).

main(["canon", OutDir | Files]) when Files =/= [] ->
    ok = filelib:ensure_dir(filename:join(OutDir, "x")),
    finish(lists:map(fun(F) -> canon_one(OutDir, F) end, Files));
main(["encode", OutDir | Files]) when Files =/= [] ->
    ok = filelib:ensure_dir(filename:join(OutDir, "x")),
    finish(lists:map(fun(F) -> encode_one(OutDir, F) end, Files));
main(["roundtrip", OutDir | Files]) when Files =/= [] ->
    ok = filelib:ensure_dir(filename:join(OutDir, "x")),
    finish(lists:map(fun(F) -> roundtrip_one(OutDir, F) end, Files));
main(["time", NStr | Files]) when Files =/= [] ->
    N = list_to_integer(NStr),
    time_all(N, Files, []),
    halt(0);
main(["time-flex", NStr | Files]) when Files =/= [] ->
    N = list_to_integer(NStr),
    case megaco_flex_scanner:is_enabled() of
        true -> ok;
        false ->
            io:format(standard_error, "megaco was built without the flex scanner~n", []),
            halt(2)
    end,
    {ok, Port} = megaco_flex_scanner:start(),
    time_all(N, Files, [{flex, Port}]),
    halt(0);
main(_) ->
    io:format(standard_error,
              "usage: megaco_oracle.escript canon|encode|roundtrip OUTDIR FILE...~n"
              "       megaco_oracle.escript time|time-flex N FILE...~n", []),
    halt(2).

finish(Results) ->
    case lists:all(fun(R) -> R =:= ok end, Results) of
        true  -> halt(0);
        false -> halt(1)
    end.

%% ---------------------------------------------------------------------
%% decode / encode

decode(Mod, Bin) ->
    case catch Mod:version_of([], Bin) of
        {ok, V} when is_integer(V) ->
            case catch Mod:decode_message([], V, Bin) of
                {ok, Msg}          -> {ok, V, Msg};
                {error, R}         -> {error, R};
                {'EXIT', R}        -> {error, {'EXIT', R}};
                Other              -> {error, {unexpected, Other}}
            end;
        {error, R} ->
            {error, R};
        Other ->
            %% e.g. {error, no_version_found, Tokens, Line} from the scanner
            {error, {version_of, Other}}
    end.

encode(Mod, V, Msg) ->
    case catch Mod:encode_message([], V, Msg) of
        {ok, Enc}   -> {ok, iolist_to_binary(Enc)};
        {error, R}  -> {error, {encode_failed, Mod, R}};
        {'EXIT', R} -> {error, {encode_failed, Mod, R}};
        Other       -> {error, {encode_failed, Mod, Other}}
    end.

base(File) ->
    filename:rootname(filename:basename(File)).

%% ---------------------------------------------------------------------
%% commands

canon_one(OutDir, File) ->
    Base = filename:join(OutDir, base(File)),
    case read_decode(File) of
        {ok, _V, Msg} ->
            _ = file:delete(Base ++ ".err"),
            ok = file:write_file(Base ++ ".term", canon_text(Msg)),
            io:format("OK ~s~n", [File]),
            ok;
        {error, R} ->
            report_err(Base, File, R)
    end.

encode_one(OutDir, File) ->
    Base = filename:join(OutDir, base(File)),
    case read_decode(File) of
        {ok, V, Msg} ->
            case {encode(megaco_pretty_text_encoder, V, Msg),
                  encode(megaco_compact_text_encoder, V, Msg)} of
                {{ok, P}, {ok, C}} ->
                    _ = file:delete(Base ++ ".err"),
                    ok = file:write_file(Base ++ ".pretty.txt", P),
                    ok = file:write_file(Base ++ ".compact.txt", C),
                    io:format("OK ~s~n", [File]),
                    ok;
                {{error, R}, _} -> report_err(Base, File, R);
                {_, {error, R}} -> report_err(Base, File, R)
            end;
        {error, R} ->
            report_err(Base, File, R)
    end.

roundtrip_one(OutDir, File) ->
    Base = filename:join(OutDir, base(File)),
    case read_decode(File) of
        {ok, V, Msg} ->
            T0 = canon_text(Msg),
            ok = file:write_file(Base ++ ".term", T0),
            R = [rt_leg(Base, Mod, Ext, V, Msg, T0)
                 || {Mod, Ext} <- [{megaco_pretty_text_encoder, "pretty"},
                                   {megaco_compact_text_encoder, "compact"}]],
            case [X || X <- R, X =/= same] of
                [] ->
                    io:format("SAME ~s~n", [File]), ok;
                Bad ->
                    io:format("DIFF ~s ~s~n",
                              [File, string:join([fmt_leg(B) || B <- Bad], " ")]),
                    diff
            end;
        {error, R} ->
            report_err(Base, File, R)
    end.

fmt_leg({diff, Ext})       -> Ext;
fmt_leg({error, Ext, R})   -> Ext ++ ":" ++ short_reason(R).

rt_leg(Base, Mod, Ext, V, Msg, T0) ->
    case encode(Mod, V, Msg) of
        {ok, Enc} ->
            ok = file:write_file(Base ++ "." ++ Ext ++ ".txt", Enc),
            case decode(Mod, Enc) of
                {ok, _, Msg2} ->
                    T2 = canon_text(Msg2),
                    ok = file:write_file(Base ++ "." ++ Ext ++ ".term", T2),
                    case T2 =:= T0 of
                        true  -> same;
                        false -> {diff, Ext}
                    end;
                {error, R} -> {error, Ext ++ "-redecode", R}
            end;
        {error, R} -> {error, Ext ++ "-encode", R}
    end.

read_decode(File) ->
    case file:read_file(File) of
        {ok, Bin} -> decode(megaco_pretty_text_encoder, Bin);
        {error, R} -> {error, {read_failed, R}}
    end.

report_err(Base, File, R) ->
    ok = file:write_file(Base ++ ".err", io_lib:format("~p.~n", [R])),
    io:format("ERR ~s ~s~n", [File, short_reason(R)]),
    error.

%% One line, human-sized.
short_reason(R) ->
    S = case R of
            [{reason, Reason, Line} | _] ->
                io_lib:format("line ~p: ~0p", [Line, Reason]);
            [{reason, Reason} | _] ->
                io_lib:format("~0p", [Reason]);
            _ ->
                io_lib:format("~0p", [R])
        end,
    Flat = lists:flatten(S),
    Clean = [case C of $\n -> $\s; $\r -> $\s; _ -> C end || C <- Flat],
    case length(Clean) > 300 of
        true  -> lists:sublist(Clean, 300) ++ "...";
        false -> Clean
    end.

%% ---------------------------------------------------------------------
%% canonical form

canon_text(Msg) ->
    Chars = lists:flatten(io_lib:format("~p.~n", [norm(Msg)])),
    iolist_to_binary([ascii(C) || C <- Chars]).

ascii(C) when C > 126 -> io_lib:format("\\x{~.16B}", [C]);
ascii(C) -> C.

norm(T) -> norm(T, false).

%% N1: digit map body (v1: 5-tuple, v2/v3: 6-tuple; body is element 5)
norm(T, Sdp) when is_tuple(T), tuple_size(T) >= 5, element(1, T) =:= 'DigitMapValue' ->
    T2 = norm_tuple(T, Sdp),
    case element(5, T2) of
        Body when is_list(Body) -> setelement(5, T2, norm_dmbody(Body));
        _ -> T2
    end;
%% N3: MTP address hex digits
norm({mtpAddress, Hex}, _Sdp) when is_list(Hex) ->
    {mtpAddress, [lower(C) || C <- Hex]};
%% SDP: everything below a Local/Remote descriptor keeps its case
norm(T, _Sdp) when is_tuple(T), tuple_size(T) >= 1, element(1, T) =:= 'LocalRemoteDescriptor' ->
    norm_tuple(T, true);
%% N2: parameter values (element 3 is the value list in all four records)
norm(T, false) when is_tuple(T), tuple_size(T) >= 3,
                    (element(1, T) =:= 'PropertyParm' orelse
                     element(1, T) =:= 'EventParameter' orelse
                     element(1, T) =:= 'SigParameter' orelse
                     element(1, T) =:= 'StatisticsParameter') ->
    T2 = norm_tuple(T, false),
    setelement(3, T2, lower_values(element(3, T2)));
norm(T, Sdp) when is_tuple(T) ->
    norm_tuple(T, Sdp);
norm(L, Sdp) when is_list(L) ->
    [norm(X, Sdp) || X <- L];
norm(X, _Sdp) ->
    X.

norm_tuple(T, Sdp) ->
    list_to_tuple([norm(X, Sdp) || X <- tuple_to_list(T)]).

lower_values(Vs) when is_list(Vs) ->
    [case V of
         S when is_list(S) -> [lower(C) || C <- S];
         _ -> V
     end || V <- Vs];
lower_values(V) ->
    V.

norm_dmbody(Body) ->
    [lower(C) || C <- Body, not lists:member(C, " \t\r\n")].

lower(C) when C >= $A, C =< $Z -> C + 32;
lower(C) -> C.

%% ---------------------------------------------------------------------
%% timing

time_all(N, Files, Conf) ->
    P = megaco_pretty_text_encoder,
    C = megaco_compact_text_encoder,
    Items0 = lists:map(
               fun(F) ->
                       case prepare(F) of
                           {ok, Item} ->
                               Item;
                           {error, R} ->
                               io:format(standard_error, "skip ~s: ~s~n",
                                         [F, short_reason(R)]),
                               skip
                       end
               end, Files),
    Items = [I || I <- Items0, I =/= skip, conf_decodes(Conf, I)],
    Count = length(Items),
    case Count of
        0 -> io:format(standard_error, "no decodable files~n", []), halt(1);
        _ -> ok
    end,
    Ops = [{"original decode", fun({_, V, _, B, _, _}) -> {ok, _} = P:decode_message(Conf, V, B) end},
           {"pretty decode",   fun({_, V, _, _, PB, _}) -> {ok, _} = P:decode_message(Conf, V, PB) end},
           {"pretty encode",   fun({_, V, M, _, _, _}) -> {ok, _} = P:encode_message([], V, M) end},
           {"compact decode",  fun({_, V, _, _, _, CB}) -> {ok, _} = C:decode_message(Conf, V, CB) end},
           {"compact encode",  fun({_, V, M, _, _, _}) -> {ok, _} = C:encode_message([], V, M) end}],
    Scanner = case Conf of [] -> "Erlang scanner"; _ -> "flex scanner" end,
    io:format("# megaco ~s (~s), ~p messages (~p skipped) x ~p iterations, mean us/message~n",
              [megaco_vsn(), Scanner, Count, length(Files) - Count, N]),
    lists:foreach(
      fun({Name, Fun}) ->
              run(Fun, Items, 1),                       % warm-up
              erlang:garbage_collect(),
              {Us, _} = timer:tc(fun() -> run(Fun, Items, N) end),
              io:format("~s ~.2f~n", [Name, Us / (N * Count)])
      end, Ops).

%% With the flex scanner, a file is timed only if the flex scanner reads all three of its
%% forms (it stops at some legal messages, e.g. a W- command prefix, where the Erlang
%% scanner does not); the others are skipped like undecodable files.
conf_decodes([], _) ->
    true;
conf_decodes(Conf, {F, V, _, B, PB, CB}) ->
    Ok = fun(Mod, Bin) ->
                 case catch Mod:decode_message(Conf, V, Bin) of
                     {ok, _} -> true;
                     _ -> false
                 end
         end,
    case Ok(megaco_pretty_text_encoder, B) andalso Ok(megaco_pretty_text_encoder, PB)
        andalso Ok(megaco_compact_text_encoder, CB) of
        true ->
            true;
        false ->
            io:format(standard_error, "skip ~s: the flex scanner does not read it~n", [F]),
            false
    end.

%% A file is timed only if it decodes, both encoders work, and both
%% encodings decode again (so every operation runs on the same set).
prepare(F) ->
    P = megaco_pretty_text_encoder,
    C = megaco_compact_text_encoder,
    case read_decode(F) of
        {ok, V, Msg} ->
            {ok, Bin} = file:read_file(F),
            case {encode(P, V, Msg), encode(C, V, Msg)} of
                {{ok, PB}, {ok, CB}} ->
                    case {decode(P, PB), decode(C, CB)} of
                        {{ok, _, _}, {ok, _, _}} ->
                            {ok, {F, V, Msg, Bin, PB, CB}};
                        {{error, R}, _} -> {error, {pretty_redecode, R}};
                        {_, {error, R}} -> {error, {compact_redecode, R}}
                    end;
                {{error, R}, _} -> {error, R};
                {_, {error, R}} -> {error, R}
            end;
        {error, R} ->
            {error, R}
    end.

run(_Fun, _Items, 0) -> ok;
run(Fun, Items, K) ->
    lists:foreach(Fun, Items),
    run(Fun, Items, K - 1).

megaco_vsn() ->
    _ = application:load(megaco),
    case application:get_key(megaco, vsn) of
        {ok, V} -> V;
        _ -> "unknown"
    end.
