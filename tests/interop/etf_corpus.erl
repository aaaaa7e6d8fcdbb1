#!/usr/bin/env escript
%% -*- erlang -*-
%% The Erlang half of the ETF conformance test (tests/interop/etf_conformance_test.cpp).
%%
%%   etf_corpus.erl gen DIR COUNT SEED   writes a random corpus of every kind of term
%%   etf_corpus.erl verify DIR           checks what Spindle wrote back
%%
%% Files are sequences of records, each <<Size:32, Bytes:Size/binary>>:
%%   DIR/terms.etf       term_to_binary/1 of each corpus term (OTP's default encoding)
%%   DIR/compressed.etf  the same terms with [compressed]
%%   DIR/textual.etf     which terms have a text form Erlang reads back (a list of booleans)
%%   DIR/texts.txt       text of those terms (UTF-8, ~tp and ~tw forms)
%%   DIR/text_terms.etf  term_to_binary(T, [{minor_version, 2}]) of each text's term
%%   DIR/sorted.etf      one record: term_to_binary(lists:sort(Corpus))
%% Spindle writes back:
%%   DIR/reencoded.etf   its re-encoding of each term of terms.etf
%%   DIR/decompressed.etf its re-encoding of each term of compressed.etf
%%   DIR/parsed.etf      its encoding of each text it parsed
%%   DIR/printed.txt     its printed text of each term of terms.etf (those with a text
%%                       form must read back as the term)
-mode(compile).

main(["gen", Dir, Count, Seed]) ->
    rand:seed(exsss, {list_to_integer(Seed), 7, 11}),
    Terms = [term(3) || _ <- lists:seq(1, list_to_integer(Count))] ++ edge_cases(),
    write_records(Dir, "terms.etf", [term_to_binary(T) || T <- Terms]),
    write_records(Dir, "compressed.etf", [term_to_binary(T, [compressed]) || T <- Terms]),
    Flags = [textual(T) || T <- Terms],
    ok = file:write_file(filename:join(Dir, "textual.etf"), term_to_binary(Flags)),
    Textual = [T || {T, true} <- lists:zip(Terms, Flags)],
    Texts = lists:append([[pretty(T), plain(T)] || T <- Textual]),
    write_records(Dir, "texts.txt", Texts),
    write_records(Dir, "text_terms.etf",
                  lists:append([[term_to_binary(T, [{minor_version, 2}]),
                                 term_to_binary(T, [{minor_version, 2}])] || T <- Textual])),
    write_records(Dir, "sorted.etf", [term_to_binary(lists:sort(Terms))]),
    io:format("generated ~p terms, ~p with text~n", [length(Terms), length(Textual)]);
main(["verify", Dir]) ->
    Terms = [binary_to_term(B) || B <- read_records(Dir, "terms.etf")],
    {ok, FlagBin} = file:read_file(filename:join(Dir, "textual.etf")),
    Flags = binary_to_term(FlagBin),
    Textual = [T || {T, true} <- lists:zip(Terms, Flags)],
    Printed = read_records(Dir, "printed.txt"),
    Failures =
        check("re-encoded", Terms, read_records(Dir, "reencoded.etf"),
              fun(T, B) -> binary_to_term(B) =:= T end)
        ++ check("decompressed", Terms, read_records(Dir, "decompressed.etf"),
                 fun(T, B) -> binary_to_term(B) =:= T end)
        ++ check("parsed", lists:append([[T, T] || T <- Textual]), read_records(Dir, "parsed.etf"),
                 fun(T, B) -> binary_to_term(B) =:= T end)
        ++ check("printed", lists:zip(Terms, Flags), Printed,
                 fun({T, Flag}, Text) -> not Flag orelse parse(Text) =:= {ok, T} end),
    case Failures of
        [] ->
            io:format("verified ~p terms~n", [length(Terms)]);
        _ ->
            [io:format("MISMATCH ~s #~p:~n  expected ~w~n  got      ~w~n", [What, I, T, Got])
             || {What, I, T, Got} <- lists:sublist(Failures, 20)],
            io:format("~p mismatches~n", [length(Failures)]),
            halt(1)
    end;
main(_) ->
    io:format(standard_error, "usage: etf_corpus.erl gen DIR COUNT SEED | verify DIR~n", []),
    halt(2).

check(What, Expected, Got, _Pred) when length(Expected) =/= length(Got) ->
    [{What, 0, {count, length(Expected)}, {count, length(Got)}}];
check(What, Expected, Got, Pred) ->
    [{What, I, T, G} || {I, T, G} <- lists:zip3(lists:seq(1, length(Got)), Expected, Got),
                        not (catch Pred(T, G))].

parse(Text) ->
    {ok, Tokens, _} = erl_scan:string(unicode:characters_to_list(Text) ++ "."),
    erl_parse:parse_term(Tokens).

%% Text that Erlang itself prints on one line: ~tp with a huge line length, and ~tw.
pretty(T) -> unicode:characters_to_binary(io_lib:format("~ts", [io_lib_pretty:print(T, [{column, 1}, {line_length, 100000000}, {encoding, unicode}])])).
plain(T) -> unicode:characters_to_binary(io_lib:format("~tw", [T])).

%% Terms whose text Erlang reads back as the same term: no pids, refs, ports or closures
%% inside, and not among the few Erlang prints wrongly (fun_to_list mangles non-ASCII
%% atoms of export funs). Text checks are about syntax, not volume: big terms are left
%% to the binary checks.
textual(T) ->
    has_text_form(T) andalso byte_size(term_to_binary(T)) < 100000
        andalso parse(pretty(T)) =:= {ok, T} andalso parse(plain(T)) =:= {ok, T}.

has_text_form(T) when is_pid(T); is_reference(T); is_port(T) -> false;
has_text_form(T) when is_function(T) -> erlang:fun_info(T, type) =:= {type, external};
has_text_form(T) when is_tuple(T) -> lists:all(fun has_text_form/1, tuple_to_list(T));
has_text_form(T) when is_map(T) -> lists:all(fun has_text_form/1, maps:keys(T) ++ maps:values(T));
has_text_form([H | T]) -> has_text_form(H) andalso has_text_form(T);
has_text_form(_) -> true.

write_records(Dir, Name, Bins) ->
    ok = file:write_file(filename:join(Dir, Name), [[<<(byte_size(B)):32>>, B] || B <- Bins]).

read_records(Dir, Name) ->
    {ok, Bin} = file:read_file(filename:join(Dir, Name)),
    records(Bin).

records(<<Size:32, Bytes:Size/binary, Rest/binary>>) -> [Bytes | records(Rest)];
records(<<>>) -> [].

%% ----- random terms -----

edge_cases() ->
    [lists:foldl(fun(_, Acc) -> [Acc] end, [], lists:seq(1, 5000)),          % 5000 deep
     lists:foldl(fun(I, Acc) -> {I, Acc} end, nil, lists:seq(1, 3000)),
     maps:from_list([{I, I * 2} || I <- lists:seq(1, 10000)]),
     maps:from_list([{{k, I}, <<I:64>>} || I <- lists:seq(1, 500)]),
     crypto_free_bytes(1 bsl 20),
     lists:seq(1, 100000),
     1 bsl 20000, -(1 bsl 20000) + 12345,
     list_to_tuple(lists:seq(1, 300)),
     list_to_atom(lists:duplicate(255, $x)),
     list_to_atom(lists:duplicate(255, 26085)),
     lists:duplicate(70000, 7),                                              % too long for STRING_EXT
     #{}, {}, [[]], <<1:1>>, <<255, 7:3>>,
     #{1 => int, 1.0 => float, -0.0 => negzero, <<>> => bin, [] => nil, {} => tuple}].

pick(List) -> lists:nth(rand:uniform(length(List)), List).

term(0) -> leaf();
term(Depth) ->
    case rand:uniform(12) of
        1 -> list_to_tuple([term(Depth - 1) || _ <- lists:seq(1, rand:uniform(6) - 1)]);
        2 -> [term(Depth - 1) || _ <- lists:seq(1, rand:uniform(6) - 1)];
        3 -> maps:from_list([{term(Depth - 1), term(Depth - 1)} || _ <- lists:seq(1, rand:uniform(6) - 1)]);
        4 -> [term(Depth - 1) || _ <- lists:seq(1, rand:uniform(3))] ++ leaf();  % improper
        5 -> maps:from_list([{rand:uniform(1000), leaf()} || _ <- lists:seq(1, 33 + rand:uniform(40))]);
        6 -> closure(term(Depth - 1));
        _ -> leaf()
    end.

leaf() ->
    case rand:uniform(22) of
        1 -> rand:uniform(256) - 1;
        2 -> rand:uniform(1 bsl 32) - (1 bsl 31);
        3 -> big();
        4 -> -big();
        5 -> (rand:uniform() - 0.5) * math:pow(10, rand:uniform(600) - 300);
        6 -> pick([0.0, 1.0, -1.0, 0.1, 1.0e21, 1.0e-5, 123.456, 5.0e-324, 1.7976931348623157e308]);
        7 -> random_atom();
        8 -> list_to_binary([rand:uniform(256) - 1 || _ <- lists:seq(1, rand:uniform(20) - 1)]);
        9 -> pick([<<>>, <<"hello">>, <<"héllo"/utf8>>, crypto_free_bytes(70000)]);
        10 -> <<(rand:uniform(1 bsl 20)):(rand:uniform(23))>>;
        11 -> [rand:uniform(256) - 1 || _ <- lists:seq(1, rand:uniform(10))];
        12 -> unicode_string();
        13 -> pick([self(), remote_pid()]);
        14 -> pick([make_ref(), remote_ref()]);
        15 -> pick([hd(erlang:ports()), remote_port()]);
        16 -> erlang:make_fun(random_atom(), random_atom(), rand:uniform(256) - 1);
        17 -> [];
        18 -> pick([true, false, undefined, '', 'hello world', 'with\'quote', 'back\\slash', 'nl\n', 'ü', '日本語', 'A']);
        19 -> pick([1 bsl 62, -(1 bsl 62), (1 bsl 62) - 1, -(1 bsl 62) - 1, 1 bsl 63, 1 bsl 64, -(1 bsl 63)]);
        20 -> lists:seq(1, rand:uniform(300));
        21 -> <<>>;
        22 -> pick(["", "\t\e\\\"'", [65 | 66], [1000, 2000]])
    end.

big() -> rand:uniform(1 bsl (64 + rand:uniform(2000))).

crypto_free_bytes(N) -> << <<(I rem 251)>> || I <- lists:seq(1, N) >>.

random_atom() ->
    Chars = [pick([rand:uniform(26) + 96, rand:uniform(26) + 64, $_, $@, $\s, $', $\\, 233, 955, 26085, $\n])
             || _ <- lists:seq(1, rand:uniform(12) - 1)],
    list_to_atom(Chars).

unicode_string() -> [pick([$a, $z, 233, 955, 26085, 128512, $\n]) || _ <- lists:seq(1, rand:uniform(8))].

node_name() -> pick([<<"a@host">>, <<"spindle@127.0.0.1">>, <<"n\x{e9}@h"/utf8>>]).

remote_pid() ->
    N = node_name(),
    binary_to_term(<<131, 88, 119, (byte_size(N)), N/binary, (rand:uniform(1 bsl 32) - 1):32,
                     (rand:uniform(1 bsl 32) - 1):32, (rand:uniform(1 bsl 32) - 1):32>>).

remote_ref() ->
    N = node_name(),
    Words = rand:uniform(5),
    binary_to_term(<<131, 90, Words:16, 119, (byte_size(N)), N/binary, (rand:uniform(1 bsl 32) - 1):32,
                     << <<(rand:uniform(1 bsl 32) - 1):32>> || _ <- lists:seq(1, Words) >>/binary>>).

remote_port() ->
    N = node_name(),
    binary_to_term(<<131, 120, 119, (byte_size(N)), N/binary, (rand:uniform(1 bsl 64) - 1):64,
                     (rand:uniform(1 bsl 32) - 1):32>>).

closure(Captured) ->
    case rand:uniform(3) of
        1 -> fun() -> Captured end;
        2 -> fun(X) -> {X, Captured} end;
        3 -> fun(X, Y) -> [X, Y] end
    end.
