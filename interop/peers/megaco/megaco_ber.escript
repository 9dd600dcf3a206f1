#!/usr/bin/env escript
%% -*- erlang -*-
%%! -noshell
%%
%% megaco_ber.escript -- Erlang/OTP megaco's BER encoder (H.248.1 Annex A)
%% as a third-party reference for the iq-codec ASN.1 layer (src/binary/).
%%
%% Tested with Debian erlang-megaco (OTP 25, megaco-4.4.2).  Needs only the
%% megaco application's beam files on the code path; starts no processes.
%%
%% Usage (many files per invocation; VM start-up is the slow part):
%%
%%   escript megaco_ber.escript ber      OUTDIR FILE...
%%   escript megaco_ber.escript bermsgs  OUTDIR MSGSFILE
%%   escript megaco_ber.escript canon    OUTDIR FILE...
%%   escript megaco_ber.escript time     N FILE...
%%
%%  ber      decode each text FILE with megaco's text decoder (the parser of
%%           the header's version), encode the record with
%%           megaco_ber_encoder:encode_message([], 3, Msg) and write
%%           OUTDIR/<base>.ber, or OUTDIR/<base>.err with the reason.
%%           Version 3 is given explicitly: megaco's BER decoder has no
%%           version detection ('dynamic' means v1 there).  Text messages
%%           of version 1 or 2 are parsed by the v3 text parser (see
%%           as_v3_text/2) and encoded as v3 BER; their Message.version
%%           field keeps 1 or 2.
%%  bermsgs  like ber, for every {Name, <<"text">>} of an Erlang term file
%%           {pretty, [{Name, Bin}, ...]} such as megaco's own
%%           examples/meas/time_test.msgs; writes OUTDIR/<Name>.ber or .err.
%%  canon    decode each BER FILE with megaco_ber_encoder:decode_message([],
%%           3, Bin) and write the record canonically to OUTDIR/<base>.term
%%           (or OUTDIR/<base>.err).
%%  time     decode and encode every BER FILE N times (after one warm-up
%%           pass) and print the mean microseconds per message, one line
%%           per operation (like megaco_oracle.escript's time):
%%             decode         X  megaco_ber_encoder:decode_message([], 3, Bin)
%%             encode         X  megaco_ber_encoder:encode_message([], 3, Msg)
%%                               (Msg = the decoded record; the binary result)
%%             native decode  X  the same with EncodingConfig [native]: the
%%             native encode  X  ASN.1 layer only, without megaco's
%%                               binary transformer (termination IDs, ...)
%%           after a first line "# megaco <vsn> BER v3, K messages (S
%%           skipped) x N iterations, mean us/message".  A FILE that does
%%           not decode, or whose record does not encode again (either
%%           config), is skipped and reported on stderr as "skip FILE: R";
%%           so every operation runs on the same set of messages.
%%
%% ber/bermsgs/canon: each file prints "OK <file>" or "ERR <file> <short
%% reason>".  <base> is the file name without directory and last extension.
%% Exit status: 0 if every file was OK (time: if at least one message was
%% timed), 1 otherwise, 2 on usage error.
%%
%% Canonical form (.term): io_lib:format("~p.~n", [Msg]) with the default
%% line width, every character above 126 written as \x{HH}, exactly like
%% megaco_oracle.escript's canon, but with none of its text normalisations
%% (N1..N3): BER carries every value exactly (no case folding, no
%% whitespace), so two BER encodings mean the same iff megaco decodes them
%% to the identical record.

-mode(compile).

main(["ber", OutDir | Files]) when Files =/= [] ->
    ok = filelib:ensure_dir(filename:join(OutDir, "x")),
    finish([ber_one(OutDir, base(F), F, file:read_file(F)) || F <- Files]);
main(["bermsgs", OutDir, MsgsFile]) ->
    ok = filelib:ensure_dir(filename:join(OutDir, "x")),
    case file:consult(MsgsFile) of
        {ok, [{_, Msgs}]} when is_list(Msgs) ->
            finish([ber_one(OutDir, atom_to_list(Name), atom_to_list(Name), {ok, Bin})
                    || {Name, Bin} <- Msgs]);
        Other ->
            io:format(standard_error, "cannot read ~s: ~p~n", [MsgsFile, Other]),
            halt(1)
    end;
main(["canon", OutDir | Files]) when Files =/= [] ->
    ok = filelib:ensure_dir(filename:join(OutDir, "x")),
    finish([canon_one(OutDir, F) || F <- Files]);
main(["time", NStr | Files]) when Files =/= [] ->
    case catch list_to_integer(NStr) of
        N when is_integer(N), N > 0 ->
            time_all(N, Files),
            halt(0);
        _ ->
            usage()
    end;
main(_) ->
    usage().

usage() ->
    io:format(standard_error,
              "usage: megaco_ber.escript ber|canon OUTDIR FILE...~n"
              "       megaco_ber.escript bermsgs OUTDIR MSGSFILE~n"
              "       megaco_ber.escript time N FILE...~n", []),
    halt(2).

finish(Results) ->
    case lists:all(fun(R) -> R =:= ok end, Results) of
        true  -> halt(0);
        false -> halt(1)
    end.

base(File) ->
    filename:rootname(filename:basename(File)).

%% ---------------------------------------------------------------------

ber_one(OutDir, Base0, Label, Read) ->
    Base = filename:join(OutDir, Base0),
    R = case Read of
            {ok, Text} -> text_to_ber(Text);
            {error, E} -> {error, {read_failed, E}}
        end,
    case R of
        {ok, Ber} ->
            _ = file:delete(Base ++ ".err"),
            ok = file:write_file(Base ++ ".ber", Ber),
            io:format("OK ~s~n", [Label]),
            ok;
        {error, Reason} ->
            report_err(Base, Label, Reason)
    end.

text_to_ber(Text) ->
    Mod = megaco_pretty_text_encoder,
    case catch Mod:version_of([], Text) of
        {ok, V} when is_integer(V) ->
            case catch Mod:decode_message([], 3, as_v3_text(V, Text)) of
                {ok, Msg3} ->
                    Msg = restore_version(V, Msg3),
                    case catch megaco_ber_encoder:encode_message([], 3, Msg) of
                        {ok, Ber} -> {ok, iolist_to_binary(Ber)};
                        {error, R} -> {error, {ber_encode, R}};
                        {'EXIT', R} -> {error, {ber_encode, {'EXIT', R}}};
                        Other -> {error, {ber_encode, Other}}
                    end;
                {error, R} -> {error, {text_decode, R}};
                {'EXIT', R} -> {error, {text_decode, {'EXIT', R}}};
                Other -> {error, {text_decode, Other}}
            end;
        Other ->
            {error, {version_of, Other}}
    end.

%% The v3 BER encoder only takes v3 records; the v1/v2 text parsers make v1/v2
%% records, which it rejects (function_clause).  So a v1/v2 text is parsed by
%% the v3 parser (its header version rewritten to 3; v3 text syntax is a
%% superset) and its Message.version set back to V afterwards.
as_v3_text(3, Text) -> Text;
as_v3_text(_V, Text) ->
    re:replace(Text, "(MEGACO|!)/[0-9]+", "\\1/3", [caseless, {return, binary}]).

restore_version(3, Msg) -> Msg;
restore_version(V, {'MegacoMessage', Auth, Mess}) ->
    {'MegacoMessage', Auth, setelement(2, Mess, V)}.

canon_one(OutDir, File) ->
    Base = filename:join(OutDir, base(File)),
    R = case file:read_file(File) of
            {ok, Bin} ->
                case catch megaco_ber_encoder:decode_message([], 3, Bin) of
                    {ok, Msg} -> {ok, Msg};
                    {error, E} -> {error, {ber_decode, E}};
                    {'EXIT', E} -> {error, {ber_decode, {'EXIT', E}}};
                    Other -> {error, {ber_decode, Other}}
                end;
            {error, E} ->
                {error, {read_failed, E}}
        end,
    case R of
        {ok, M} ->
            _ = file:delete(Base ++ ".err"),
            ok = file:write_file(Base ++ ".term", canon_text(M)),
            io:format("OK ~s~n", [File]),
            ok;
        {error, Reason} ->
            report_err(Base, File, Reason)
    end.

report_err(Base, Label, R) ->
    ok = file:write_file(Base ++ ".err", io_lib:format("~p.~n", [R])),
    io:format("ERR ~s ~s~n", [Label, short_reason(R)]),
    error.

short_reason(R) ->
    Flat = lists:flatten(io_lib:format("~0p", [R])),
    Clean = [case C of $\n -> $\s; $\r -> $\s; _ -> C end || C <- Flat],
    case length(Clean) > 300 of
        true  -> lists:sublist(Clean, 300) ++ "...";
        false -> Clean
    end.

canon_text(Msg) ->
    Chars = lists:flatten(io_lib:format("~p.~n", [Msg])),
    iolist_to_binary([ascii(C) || C <- Chars]).

ascii(C) when C > 126 -> io_lib:format("\\x{~.16B}", [C]);
ascii(C) -> C.

%% ---------------------------------------------------------------------
%% timing

time_all(N, Files) ->
    Items0 = [case time_prepare(F) of
                  {ok, Item} ->
                      Item;
                  {error, R} ->
                      io:format(standard_error, "skip ~s: ~s~n",
                                [F, short_reason(R)]),
                      skip
              end || F <- Files],
    Items = [I || I <- Items0, I =/= skip],
    Count = length(Items),
    case Count of
        0 -> io:format(standard_error, "no decodable files~n", []), halt(1);
        _ -> ok
    end,
    E = megaco_ber_encoder,
    Ops = [{"decode",        fun({B, _, _}) -> {ok, _} = E:decode_message([], 3, B) end},
           {"encode",        fun({_, M, _}) -> {ok, _} = E:encode_message([], 3, M) end},
           {"native decode", fun({B, _, _}) -> {ok, _} = E:decode_message([native], 3, B) end},
           {"native encode", fun({_, _, NM}) -> {ok, _} = E:encode_message([native], 3, NM) end}],
    io:format("# megaco ~s BER v3, ~p messages (~p skipped) x ~p iterations, mean us/message~n",
              [megaco_vsn(), Count, length(Files) - Count, N]),
    lists:foreach(
      fun({Name, Fun}) ->
              run(Fun, Items, 1),                       % warm-up
              erlang:garbage_collect(),
              {Us, _} = timer:tc(fun() -> run(Fun, Items, N) end),
              io:format("~s ~.2f~n", [Name, Us / (N * Count)])
      end, Ops).

%% {Bin, Msg, NativeMsg} if the file decodes and its records encode again,
%% with both encoding configs.
time_prepare(F) ->
    E = megaco_ber_encoder,
    Try = fun(Fun) ->
                  case catch Fun() of
                      {ok, X} -> {ok, X};
                      {error, R} -> {error, R};
                      {'EXIT', R} -> {error, {'EXIT', R}};
                      Other -> {error, Other}
                  end
          end,
    case file:read_file(F) of
        {ok, Bin} ->
            case Try(fun() -> E:decode_message([], 3, Bin) end) of
                {ok, Msg} ->
                    case Try(fun() -> E:decode_message([native], 3, Bin) end) of
                        {ok, NMsg} ->
                            case {Try(fun() -> E:encode_message([], 3, Msg) end),
                                  Try(fun() -> E:encode_message([native], 3, NMsg) end)} of
                                {{ok, _}, {ok, _}} -> {ok, {Bin, Msg, NMsg}};
                                {{error, R}, _} -> {error, {ber_encode, R}};
                                {_, {error, R}} -> {error, {native_encode, R}}
                            end;
                        {error, R} -> {error, {native_decode, R}}
                    end;
                {error, R} -> {error, {ber_decode, R}}
            end;
        {error, R} ->
            {error, {read_failed, R}}
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
