"""``ilya prover serve``: the proof assistant (paper §5.3) as a small web app (Starlette + uvicorn).

Plain HTML and a little vanilla JS served by the app itself (no CDN: works offline). A session holds one
statement and its open goals; the policy ranks next steps, a click applies one through the kernel, "prove"
runs a bounded search in a thread that the page polls, and a finished proof is exported compressed after
the Metamath kernel checked it. Bad input is answered as ``{"error": ...}``, never as a server error.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from ilya.core.errors import IlyaError
from ilya.metamath import Database
from ilya.prover.config import ServeConfig
from ilya.prover.format import Expr, ProofStep, parse_step, step_text
from ilya.prover.kernel import Kernel
from ilya.prover.search import Policy, ProofTree, SearchConfig, StepRejected, search


@dataclass
class _Session:
    label: str
    goal: Expr
    applied: dict[Expr, tuple[ProofStep, list[Expr]]] = field(default_factory=dict)
    prove: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Assistant:
    """The state behind the pages: database, kernel, policy, sessions (one lock: the policy is not reentrant)."""

    def __init__(self, db: Database, policy: Policy, cfg: ServeConfig) -> None:
        self.db, self.kernel, self.policy, self.cfg = db, Kernel(db), policy, cfg
        self.sessions: dict[str, _Session] = {}
        self.lock = threading.Lock()
        self.n_goals = 0

    def open(self, target: str) -> dict[str, Any]:
        target = target.strip()
        if target in self.db:
            st = self.db[target]
            if st.kind != "p":
                raise IlyaError(f"{target} is a ${st.kind} statement, not a $p theorem")
            label, goal = target, tuple(st.expr)
        else:
            goal = tuple(target.split())
            if len(goal) < 2 or goal[0] not in self.db.constants or goal[0] in ("wff", "class", "setvar"):
                raise IlyaError(f"{target!r}: unknown label, and not a goal such as '|- ( ph -> ph )'")
            if not self.db.parses(goal):
                raise IlyaError(f"{target!r} does not parse with the database's syntax")
            self.n_goals += 1
            label = f"<goal{self.n_goals}>"
            self.kernel.add_statement(label, goal, {}, len(self.db.statements))
        sid = uuid.uuid4().hex[:12]
        self.sessions[sid] = _Session(label, goal)
        return {"session": sid, **self.state(sid)}

    def _session(self, sid: str) -> _Session:
        if sid not in self.sessions:
            raise IlyaError("unknown session (reopen the statement)")
        return self.sessions[sid]

    def _open_goals(self, s: _Session) -> list[Expr]:
        out: list[Expr] = []

        def walk(g: Expr) -> None:
            if self.kernel.hypothesis(s.label, g) is not None:
                return
            if g in s.applied:
                for c in s.applied[g][1]:
                    walk(c)
            else:
                out.append(g)

        walk(s.goal)
        return out

    def state(self, sid: str) -> dict[str, Any]:
        s = self._session(sid)
        goals = self._open_goals(s)
        return {"label": s.label, "statement": " ".join(s.goal), "goals": [" ".join(g) for g in goals],
                "done": not goals, "applied": len(s.applied), "exportable": s.label in self.db}

    def suggest(self, sid: str, goal: str) -> dict[str, Any]:
        s = self._session(sid)
        g = tuple(goal.split())
        with self.lock:
            cands = self.policy.propose([g], self.cfg.e, [s.label])[0]
        best: dict[ProofStep, float] = {}
        for step, lp in cands:
            if step is not None and lp > best.get(step, -math.inf):
                best[step] = lp
        rows = []
        for step, lp in sorted(best.items(), key=lambda x: -x[1])[:self.cfg.k]:
            try:
                subs = [" ".join(x) for x in self.kernel.expand(s.label, g, step)]
                status = "ok"
            except StepRejected as r:
                subs, status = [], f"rejected ({r.reason})"
            rows.append({"step": step_text(step), "logprob": round(lp, 3), "status": status, "subgoals": subs})
        return {"goal": goal, "suggestions": rows}

    def apply(self, sid: str, goal: str, step: str) -> dict[str, Any]:
        s = self._session(sid)
        g = tuple(goal.split())
        st = parse_step(step)
        if st is None:
            raise IlyaError(f"{step!r} is not a proof step")
        try:
            subs = self.kernel.expand(s.label, g, st)
        except StepRejected as r:
            raise IlyaError(f"the kernel rejects {step!r}: {r.reason} {r.detail}".strip()) from None
        s.applied[g] = (st, subs)
        return self.state(sid)

    def prove(self, sid: str) -> dict[str, Any]:
        s = self._session(sid)
        with s.lock:
            if s.prove.get("status") == "running":
                return dict(s.prove)
            s.prove = {"status": "running", "started": time.time()}
        goals = self._open_goals(s)

        def run() -> None:
            cfg = SearchConfig(e=self.cfg.e, d=self.cfg.d, time_limit=self.cfg.time_limit)
            for g in goals:
                with self.lock:
                    r = search(s.label, g, self.policy, self.kernel, cfg)
                if r.proof is None:
                    s.prove = {"status": "failed", "stopped": r.stopped, "expansions": r.expansions}
                    return
                self._graft(s, r.proof)
            s.prove = {"status": "proved", **self.state(sid)}

        threading.Thread(target=run, daemon=True).start()
        return dict(s.prove)

    def _graft(self, s: _Session, t: ProofTree) -> None:
        if t.step is not None:
            s.applied[t.goal] = (t.step, [c.goal for c in t.children])
            for c in t.children:
                self._graft(s, c)

    def progress(self, sid: str) -> dict[str, Any]:
        s = self._session(sid)
        out = dict(s.prove) or {"status": "idle"}
        if out.get("status") == "running":
            out["elapsed"] = round(time.time() - out["started"], 1)
        return out

    def _tree(self, s: _Session, g: Expr) -> ProofTree:
        hyp = self.kernel.hypothesis(s.label, g)
        if hyp is not None:
            return ProofTree(g, hyp=hyp)
        step, subs = s.applied[g]
        return ProofTree(g, step=step, children=[self._tree(s, c) for c in subs])

    def export(self, sid: str) -> dict[str, Any]:
        s = self._session(sid)
        if self._open_goals(s):
            raise IlyaError("the proof is not finished: goals remain")
        if s.label not in self.db:
            raise IlyaError("a typed goal is not a database $p: export works for opened theorems")
        labels = self.kernel.assemble(self._tree(s, s.goal), s.label)
        try:
            self.kernel.verify(s.label, labels)
        except Exception as e:  # noqa: BLE001 - shown on the page
            raise IlyaError(f"the Metamath kernel refuses the proof: {e}") from None
        return {"label": s.label, "verified": True, "proof": self.kernel.compress(s.label, labels),
                "statement": f"{s.label} $p {' '.join(s.goal)} $="}


def make_app(assistant: Assistant) -> Starlette:
    """The Starlette app: ``/`` (the page) and ``/api/{open,state,suggest,apply,prove,progress,export}``."""

    async def page(_: Request) -> HTMLResponse:
        return HTMLResponse(PAGE)

    def api(name: str):
        async def handler(request: Request) -> JSONResponse:
            try:
                body: dict[str, Any] = await request.json() if request.method == "POST" else dict(request.query_params)
                a = assistant
                if name == "open":
                    out = a.open(str(body.get("target", "")))
                elif name == "state":
                    out = a.state(str(body.get("session", "")))
                elif name == "suggest":
                    out = a.suggest(str(body.get("session", "")), str(body.get("goal", "")))
                elif name == "apply":
                    out = a.apply(str(body.get("session", "")), str(body.get("goal", "")), str(body.get("step", "")))
                elif name == "prove":
                    out = a.prove(str(body.get("session", "")))
                elif name == "progress":
                    out = a.progress(str(body.get("session", "")))
                else:
                    out = a.export(str(body.get("session", "")))
                return JSONResponse(out)
            except IlyaError as e:
                return JSONResponse({"error": str(e)})
            except Exception as e:  # noqa: BLE001 - bad input is shown in the page, never a 500
                return JSONResponse({"error": f"{type(e).__name__}: {e}"})
        return handler

    routes = [Route("/", page)] + [Route(f"/api/{n}", api(n), methods=["GET", "POST"])
                                    for n in ("open", "state", "suggest", "apply", "prove", "progress", "export")]
    return Starlette(routes=routes)


def serve(cfg: ServeConfig) -> None:
    """`ilya prover serve`: load the database and the policy, then serve on ``--host``:``--port``."""
    import uvicorn

    from ilya.prover.dataset import load_database
    from ilya.prover.policies import make_policy, policy_spec

    db = load_database(cfg.db, cfg.data)
    kind = "model" if cfg.policy == "model" and cfg.model else "frequency"
    policy = make_policy(policy_spec(kind, cfg.model, cfg.data, cfg.runs_dir, threads=0, seed=cfg.seed), db)
    print(f"ilya prover serve: http://{cfg.host}:{cfg.port}/  ({kind} policy, {db.path})", flush=True)
    uvicorn.run(make_app(Assistant(db, policy, cfg)), host=cfg.host, port=cfg.port, log_level="warning",
                timeout_keep_alive=5)


PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>ilya prover: proof assistant</title>
<style>body{font-family:sans-serif;margin:2em;max-width:70em}code,.mono{font-family:monospace}
#error{color:#b00}li{margin:.3em 0}button{margin-left:.5em}.goal{background:#eef;padding:.2em .4em}
pre{background:#f4f4f4;padding:1em;white-space:pre-wrap}</style></head><body>
<h1>GPT-f proof assistant</h1>
<p>Theorem label or goal: <input id="target" size="60" placeholder="e.g. id or |- ( ph -> ph )">
<button id="open">Open</button></p>
<div id="error"></div>
<div id="statement"></div>
<h2>Open goals</h2><ul id="goals"></ul>
<h2>Suggestions</h2><ol id="suggestions"></ol>
<p><button id="prove">Prove</button> <span id="progress"></span> <button id="export">Export proof</button></p>
<pre id="proof"></pre>
<script>
let sid=null;
const $=id=>document.getElementById(id);
async function call(name,body){const r=await fetch('/api/'+name,{method:'POST',body:JSON.stringify(body)});
 const j=await r.json(); $('error').textContent=j.error||''; return j;}
function show(st){if(st.error)return; $('statement').innerHTML='<b>'+st.label+'</b> <span class="mono">'+
 st.statement+'</span>'+(st.done?' <b id="done">all goals closed</b>':'');
 const ul=$('goals'); ul.innerHTML='';
 st.goals.forEach(g=>{const li=document.createElement('li');li.innerHTML='<span class="goal mono"></span>';
  li.firstChild.textContent=g; const b=document.createElement('button');b.textContent='Suggest';
  b.className='suggest';b.onclick=()=>suggest(g);li.appendChild(b);ul.appendChild(li);});}
async function suggest(g){const j=await call('suggest',{session:sid,goal:g}); const ol=$('suggestions');
 ol.innerHTML=''; if(j.error)return;
 j.suggestions.forEach(s=>{const li=document.createElement('li');li.className='suggestion';
  li.textContent='['+s.logprob.toFixed(2)+'] '+s.step+'  '+s.status+(s.subgoals.length?'  -> '+s.subgoals.join(' ; '):'');
  if(s.status==='ok'){const b=document.createElement('button');b.textContent='Apply';b.className='apply';
   b.onclick=async()=>{const st=await call('apply',{session:sid,goal:g,step:s.step});show(st);$('suggestions').innerHTML='';};
   li.appendChild(b);} ol.appendChild(li);});}
$('open').onclick=async()=>{const j=await call('open',{target:$('target').value});
 if(!j.error){sid=j.session;$('proof').textContent='';$('progress').textContent='';$('suggestions').innerHTML='';show(j);}};
$('prove').onclick=async()=>{if(!sid)return; await call('prove',{session:sid}); poll();};
async function poll(){const j=await call('progress',{session:sid});
 $('progress').textContent=j.status+(j.elapsed!==undefined?' ('+j.elapsed+' s)':'')+(j.stopped?' ('+j.stopped+')':'');
 if(j.status==='running'){setTimeout(poll,300);} else {show(await call('state',{session:sid}));}}
$('export').onclick=async()=>{const j=await call('export',{session:sid});
 if(!j.error)$('proof').textContent=j.statement+'\\n'+j.proof+' $.\\n(verified by the Metamath kernel)';};
</script></body></html>
"""
