%% megaco_peer_boot.hrl -- included by megaco_mg.escript and
%% megaco_mgc.escript: compile and load the peer's modules, then run it.
%%
%% The .erl files next to the escript are compiled once per content (and
%% Erlang/OTP release) into the per-user cache directory
%% ($XDG_CACHE_HOME or ~/.cache)/iq-megaco-peers/<md5>/, or
%% $MEGACO_PEER_CACHE/<md5>/ if that is set; later runs just load the
%% .beam files, which saves ~0.6 s of CPU per start.  If the cache cannot
%% be written the modules are compiled in memory on every start.  No .beam
%% file is ever written into the source tree.

boot(Mods, Main, Args) ->
    Dir = filename:dirname(filename:absname(escript:script_name())),
    Srcs = [{M, filename:join(Dir, M ++ ".erl")} || M <- Mods],
    Contents = [{M, S, read_src(S)} || {M, S} <- Srcs],
    Key = lists:flatten([io_lib:format("~2.16.0b", [B])
                         || <<B>> <= erlang:md5(term_to_binary(
                                                  {erlang:system_info(otp_release),
                                                   erlang:system_info(version),
                                                   [C || {_, _, C} <- Contents]}))]),
    Cache = case cache_root() of
                undefined -> undefined;
                Root -> filename:join(Root, Key)
            end,
    [load_mod(M, S, Cache) || {M, S, _} <- Contents],
    Main:main(Args).

read_src(Src) ->
    case file:read_file(Src) of
        {ok, Bin} -> Bin;
        {error, E} ->
            io:format(standard_error, "cannot read ~s: ~p~n", [Src, E]),
            halt(2)
    end.

cache_root() ->
    case os:getenv("MEGACO_PEER_CACHE") of
        D when D =:= false; D =:= "" ->
            try filename:basedir(user_cache, "iq-megaco-peers")
            catch _:_ -> undefined                % e.g. no HOME
            end;
        D -> D
    end.

load_mod(M, Src, undefined) ->
    {module, _} = code:load_binary(list_to_atom(M), Src, compile_src(Src));
load_mod(M, Src, Cache) ->
    Beam = filename:join(Cache, M ++ ".beam"),
    Bin = case file:read_file(Beam) of
              {ok, B} -> B;
              _ ->
                  B = compile_src(Src),
                  store(Beam, B),
                  B
          end,
    {module, _} = code:load_binary(list_to_atom(M), Src, Bin).

compile_src(Src) ->
    case compile:file(Src, [binary, return_errors, report_errors]) of
        {ok, _, Bin} -> Bin;
        _ ->
            io:format(standard_error, "cannot compile ~s~n", [Src]),
            halt(2)
    end.

%% Write-then-rename, so a concurrent start never loads half a file.
store(Beam, Bin) ->
    Tmp = Beam ++ "." ++ os:getpid() ++ ".tmp",
    case filelib:ensure_dir(Beam) of
        ok ->
            case file:write_file(Tmp, Bin) of
                ok -> _ = file:rename(Tmp, Beam), ok;
                _ -> _ = file:delete(Tmp), ok
            end;
        _ -> ok
    end.
