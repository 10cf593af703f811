# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # λp: parallel algebraic effect handlers
#
# λp (Xie, Johnson, Maclaurin and Paszke; PEPM'22 and ICFP'24) is a λ-calculus with algebraic
# effect handlers and one more construct, `for x:n. e`, whose iterations may run in parallel. This
# notebook builds up from the effects everybody knows (state, nondeterminism) to handlers that
# see whole loops, and shows where parallel and sequential evaluation part ways.
#
# Every cell runs a program with `calculi.lambda_p`; the same programs live in
# `examples/lambda_p/`, and `python -m calculi.repl lambda_p` is the place to play with them.

# %%
from calculi.core.syntax import Source
from calculi.core.trace import Fuel
from calculi.lambda_p.program import Program
from calculi.lambda_p.run import run_term, show_value, trace_lines

program = Program.with_prelude()


def run(text: str, machine: str = "fast", variant: str = "icfp24") -> str:
    """Parse, evaluate and print a λp program (with the prelude of the variant)."""
    prog = program if variant == "icfp24" else Program.with_prelude(variant)
    (term,) = prog.expressions(Source(text, "<notebook>"))
    return show_value(run_term(term, Fuel(), variant, machine=machine))


def trace(text: str, rules_only: bool = True) -> list[str]:
    (term,) = program.expressions(Source(text, "<notebook>"))
    lines = list(trace_lines(term, Fuel()))
    return [line.split("]")[0][5:] for line in lines[1:]] if rules_only else lines


# %% [markdown]
# ## State: a parameterized handler
#
# `handle h s e` runs `e` under handler `h` with parameter `s`. Each clause takes the parameter
# first; an operation clause also gets the argument and the continuation `k`, which it resumes
# with a new parameter: `k s' x`. Here the parameter is the state.

# %%
state = """handle {return -> \\s x. x, get -> \\s _ k. k s s, set -> \\s x k. k x ()} 0 (
  perform set 21;
  x <- perform get ();
  x + x)"""
print(run(state))

# %% [markdown]
# `perform set 21` is a value applied to `21`; the (perform) rule captures the evaluation context
# up to the handler as `k = λs. λx. handle h s E[x]`. The handler is reinstalled around the
# continuation: handlers are *deep*, so the `get` that follows is handled by the same handler.

# %%
print(trace(state))

# %% [markdown]
# ## Nondeterminism: calling k twice
#
# Without a parameter (`handle h e`), clauses take no `s` and `k` takes one argument.

# %%
print(run("""handle {return -> \\x. <x>, amb -> \\_ k. k True ++ k False} (
  x <- perform amb ();
  y <- perform amb ();
  x && y)"""))

# %% [markdown]
# ## Loops: the (traverse) rule
#
# A `for` under a handler is not run directly: (traverse) hands the handler's `traverse` clause
# the loop length `n`, the parameter `s`, the array `ℓ` of body continuations
# (`ℓ.i = λs. handle h s e[x:=i]`) and the continuation `k`. A parallelizable handler calls each
# `ℓ.i` once, inside a new `for`, which moves outward to the next handler. With no handler left,
# (parallel) runs the iterations, independently, as closed programs.

# %%
accum = """handle {
    return -> \\s x. (x, s),
    accum -> \\s x k. k (s + x) (),
    traverse -> \\n s l k.
      pairs <- (for i:n. (l.i) 0);
      (rs, os) <- unzip pairs;
      k (s + reduce (+) os) rs
  } 0 ((for i:3. perform accum (<1, 2, 3>.i)); "done")"""
print(run(accum))
steps = trace(accum)
print(steps.count("traverse"), "traverse,", steps.count("parallel"), "parallel,", len(steps), "steps in all")

# %% [markdown]
# The Reader handler without a traverse clause gets the default one,
# `λn s ℓ k. k s (for i:n. (ℓ.i) s)`. Its trace is the one printed in PEPM'22 §3.2:
# (traverse), then applications, (parallel), (return).

# %%
for line in trace("handle {return -> \\x. x, ask -> \\x k. k 42} (for x:3. perform ask ())", False)[:2]:
    print(line[:160])
print(trace("handle {return -> \\x. x, ask -> \\x k. k 42} (for x:3. perform ask ())"))

# %% [markdown]
# ## Handlers from the prelude
#
# The prelude defines the papers' handlers (`runAccum`, `runWeakExcept`, `runAmb`, `runRandom`,
# `runReader`, `runState`, `runSharedState`), each taking its computation as a thunk.

# %%
print(run('runAmb (\\_. chars <- (for i:3. amb <"H", "T">); reduce (++) chars)'))
print(run("snd (runAccum (+) 0 (\\_. runAmb (\\_. d1 <- amb (iota 10); d2 <- amb (iota 10); "
          "if d1 + d2 == 13 then accum 1 else ())))"), "pairs of digits add up to 13")

# %% [markdown]
# ## Weak exceptions: parallel is not sequential
#
# Under a weak-exception handler, an exception in iteration 2 does not stop iterations 3 and 4,
# which run in parallel with it; the code after the loop does not run. With the accumulator
# outside, their effects are kept; with it inside, the exception throws the log away.

# %%
body = ('accum "start "; (for i:5. if i == 2 then (accum "!"; throw "error"; accum "unreachable") '
        'else accum (show i)); accum " end"')
print(run(f'runAccum (++) "" (\\_. runWeakExcept (\\_. {body}))'))
print(run(f'runWeakExcept (\\_. runAccum (++) "" (\\_. {body}))'))

# %% [markdown]
# ## The PRNG counterexample
#
# A splittable random-number generator hands each iteration its own key, so a loop draws
# differently from its unrolling: `runRandom` is a parallel handler whose loop is *not*
# equivalent to the sequential program. The mock generator used here returns the key it drew with.

# %%
print(run('runRandom "k" (\\_. for i:2. sampleUniform ())'))
print(run('runRandom "k" (\\_. u0 <- sampleUniform (); u1 <- sampleUniform (); <u0, u1>)'))
print(run('runRandom "k" (\\_. for i:2. sampleUniform ())', variant="pepm22"), "(PEPM'22 key split)")

# %% [markdown]
# ## Two interpreters, one meaning
#
# The small-step machine follows Fig. 1 rule by rule; the fast evaluator uses environments and
# treats effects as a free monad. The theorem suite (`python -m proofs --paper lambda_p`) checks on
# generated programs that they agree; here, on a few of the examples:

# %%
for text in [state, accum, 'runAmb (\\_. chars <- (for i:3. amb <"H", "T">); reduce (++) chars)']:
    assert run(text) == run(text, machine="small-step")
print("agree")
