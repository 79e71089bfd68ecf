-- Every change to a workshop, checked and applied in one atomic step, with its event.
--
-- KEYS: 1 meta, 2 notes, 3 clusters, 4 participants, 5 tokens, 6 ballots, 7 totals,
--       8 events (stream), 9 ops (answers by op id), 10 presence (sorted set),
--       11 opsage (the stored answers by age), 12 notecount (notes per author),
--       13 limits (participant id -> its op buckets, see "Op limits" below),
--       14 signups (participant id -> {item_id: {contact, at}}: "ik doe mee", sign_up)
--       15 activities (activity id -> the parked state of an activity that is not the
--          current one: see "the session plan" below),
--       16 undo (undo id -> what an apply_themes did, to undo it; '#index' -> their ages)
-- ARGV: 1 op, 2 role, 3 actor participant id ("" for staff), 4 answer key ("" = none),
--       5 args (JSON, already shape-checked by server/rules.py), 6 retention ms,
--       7 stream max length, 8 a fresh random id for whatever the op creates,
--       9 ms an answer is kept, 10 answers kept per actor, 11 notes per participant,
--       12 notes per workshop (the bounds of server/rules.py)
-- Returns JSON: {"ok":true,"seq":n|null,"result":{...}} or {"ok":false,"code":..,"params":{..}}
-- The rules mirror server/rules.py (check_vote); tests hold both to the same behaviour.

local K_META, K_NOTES, K_CLUSTERS, K_PARTS, K_TOKENS, K_BALLOTS, K_TOTALS, K_EVENTS, K_OPS =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local K_PRESENCE, K_OPSAGE, K_NOTECOUNT, K_LIMITS = KEYS[10], KEYS[11], KEYS[12], KEYS[13]
local K_SIGNUPS = KEYS[14]
local K_ACTS = KEYS[15]
local K_UNDO = KEYS[16]
local op, role, actor, answer_key = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local args = cjson.decode(ARGV[5])
local retention = tonumber(ARGV[6])
local maxlen = tonumber(ARGV[7])
local fresh_id = ARGV[8]
local answer_ttl = tonumber(ARGV[9])
local answers_per_actor = tonumber(ARGV[10])
local notes_per_participant = tonumber(ARGV[11])
local notes_per_workshop = tonumber(ARGV[12])
local NULL = cjson.null

local function isnull(v) return v == nil or v == NULL end

if answer_key ~= "" then
  local first = redis.call('HGET', K_OPS, answer_key)
  if first then return first end
end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

-- Answers are kept for resends, bounded (an op sent again gets its first answer while
-- it is kept): at most answers_per_actor per actor, none older than answer_ttl. In the
-- ops hash, beside each answer (field: the answer key), each actor has a counter
-- ('#' .. owner) and numbered slots ('#' .. owner .. ':' .. n -> answer key); the opsage
-- sorted set holds the slots by time. Storing answer n of an owner forgets its slot
-- n - answers_per_actor and, every 4th, up to 8 slots past their time: O(1) per op,
-- amortised (O(log n) in the sorted set).
local function forget(slot)
  local key = redis.call('HGET', K_OPS, '#' .. slot)
  if key then redis.call('HDEL', K_OPS, key, '#' .. slot) end
  redis.call('ZREM', K_OPSAGE, slot)
end

local function remember(out)
  -- The answer key is role:actor:op_id; an actor id holds no ':'.
  local owner = string.match(answer_key, '^[^:]*:[^:]*') or ''
  local n = redis.call('HINCRBY', K_OPS, '#' .. owner, 1)
  local slot = owner .. ':' .. n
  redis.call('HSET', K_OPS, answer_key, out, '#' .. slot, answer_key)
  redis.call('ZADD', K_OPSAGE, now, slot)
  if n > answers_per_actor then forget(owner .. ':' .. (n - answers_per_actor)) end
  if n % 4 == 0 then  -- up to 8 gone per 4 stored: the old ones cannot pile up
    local old = redis.call('ZRANGEBYSCORE', K_OPSAGE, '-inf', now - answer_ttl, 'LIMIT', 0, 8)
    for _, s in ipairs(old) do forget(s) end
  end
end

local function fail(code, params)
  local out = cjson.encode({ok = false, code = code, params = params or {}})
  if answer_key ~= "" then
    -- Keep the answer only while the workshop exists, and let it expire with the rest:
    -- a refusal is no change, so it must neither create a key without an expiry nor
    -- bring back a key of an erased or expired workshop.
    local ttl = redis.call('PTTL', K_META)
    if ttl ~= -2 then
      remember(out)
      if ttl > 0 then
        redis.call('PEXPIRE', K_OPS, ttl)
        redis.call('PEXPIRE', K_OPSAGE, ttl)
      end
    end
  end
  return out
end

local function touch()
  for i = 1, #KEYS do redis.call('PEXPIRE', KEYS[i], retention) end
end

local seq = nil
local function emit(kind, data)
  seq = redis.call('HINCRBY', K_META, 'seq', 1)
  redis.call('XADD', K_EVENTS, 'MAXLEN', '~', maxlen, seq .. '-0',
    'k', kind, 'a', actor, 'd', cjson.encode(data))
  return seq
end

local function ok(result)
  redis.call('HSET', K_META, 'updated_at', now)
  local out = cjson.encode({ok = true, seq = seq or NULL, result = result or {}})
  if answer_key ~= "" then remember(out) end
  touch()
  return out
end

-- Create is the only op on a workshop that does not exist yet.
if op == 'create' then
  if redis.call('EXISTS', K_META) == 1 then return fail('internal') end
  redis.call('HSET', K_META, 'id', args.id, 'code', args.code, 'title', args.title,
    'phase', 'collect', 'locked', '0', 'seq', 0, 'settings', cjson.encode(args.settings),
    'prompts', cjson.encode(args.prompts), 'timer', cjson.encode({running = false, ends_at = NULL, remaining_ms = NULL}),
    'fkey', args.fkey, 'vkey', args.vkey, 'jkey', args.jkey, 'created_at', now, 'corder', 0,
    'count', 0)
  -- The session plan: the first activity is current (in the keys above), every other one
  -- is parked, empty, in K_ACTS. A workshop stored before plans existed has no 'plan':
  -- it is read as a plan of one activity, 'a1' (see plan_load below).
  if args.plan then
    local plan = {}
    for i, a in ipairs(args.plan) do
      table.insert(plan, {id = a.id, title = a.title, prompts = a.prompts, phase = 'collect'})
      if i > 1 then
        redis.call('HSET', K_ACTS, a.id, cjson.encode({timer = cjson.encode({running = false,
          ends_at = NULL, remaining_ms = NULL}), settings = cjson.encode(a.settings),
          corder = '0', notes = {}, clusters = {}, ballots = {}, totals = {}}))
      end
    end
    redis.call('HSET', K_META, 'plan', cjson.encode(plan), 'activity', plan[1].id,
      'aseq', #plan)
  end
  return ok({created_at = now})
end

if redis.call('EXISTS', K_META) == 0 then return fail('no_workshop') end

-- New keys and erase: the server's own ops (role "system"), never a client's. Each is one
-- step against the other: a rotation after an erase finds no workshop (and so never
-- brings a key back without an expiry); an erase after a rotation removes it all.
if op == 'rotate_keys' or op == 'erase' then
  if role ~= 'system' then return fail('not_allowed') end
  if op == 'rotate_keys' then
    redis.call('HSET', K_META, 'fkey', args.fkey, 'vkey', args.vkey, 'jkey', args.jkey)
    return ok({})
  end
  -- The join code's key lives outside this workshop's hash tag (another Cluster slot):
  -- the caller removes it next, only while it still points here (see server/store.py).
  local code = redis.call('HGET', K_META, 'code')
  redis.call('DEL', unpack(KEYS))
  return cjson.encode({ok = true, seq = NULL, result = {code = code or ''}})
end
local meta_list = redis.call('HMGET', K_META, 'phase', 'settings', 'prompts')
local phase = meta_list[1]
local settings = cjson.decode(meta_list[2])

-- ---------------------------------------------------------------- questions
-- add_prompt and edit_prompt (version 1.1, facilitator only: server/rules.py checks the
-- role): every phase but closed, where they nack wrong_phase (as every 1.1 op outside
-- its phases), so this block comes before the general `closed` refusal. At most
-- MAX_PROMPTS questions (server/rules.py); the text comes cleaned (server/args.py).
-- One event with every question (replace): the screens need no merge rule.
local MAX_PROMPTS = 6
if op == 'add_prompt' or op == 'edit_prompt' then
  if phase == 'closed' then
    return fail('wrong_phase', {phase = 'collect, cluster, vote, results'})
  end
  local prompts = cjson.decode(meta_list[3])
  local result = {}
  if op == 'add_prompt' then
    if #prompts >= MAX_PROMPTS then return fail('too_many_prompts', {max = MAX_PROMPTS}) end
    -- Ids are q1, q2, ... (as at creation); no question is ever removed, but skip any
    -- id in use all the same.
    local used = {}
    for _, pr in ipairs(prompts) do used[pr.id] = true end
    local n = #prompts + 1
    while used['q' .. n] do n = n + 1 end
    local id = 'q' .. n
    table.insert(prompts, {id = id, text = args.text})
    result = {prompt_id = id}
  else
    local found = nil
    for _, pr in ipairs(prompts) do if pr.id == args.prompt_id then found = pr end end
    if not found then return fail('no_prompt') end
    if found.text == args.text then return ok({}) end  -- nothing changes: no event
    found.text = args.text
  end
  redis.call('HSET', K_META, 'prompts', cjson.encode(prompts))
  emit('prompts_changed', {prompts = prompts})
  return ok(result)
end

-- ---------------------------------------------------------------- the session plan
-- One workshop, one code, several activities (docs/decisions.md, "A session plan"). The
-- current activity lives in the keys every op already uses (phase, prompts, timer,
-- settings and corder in meta; notes, clusters, ballots, totals); every other activity
-- is parked as one JSON value in K_ACTS: {timer, settings, corder (raw, as in meta),
-- notes, clusters, ballots, totals (flat HGETALL lists of raw values)}. Its title,
-- prompts and phase are in meta 'plan' ([{id, title, prompts, phase}], in order; the
-- current one's prompts and phase there may lag: meta's own fields are the truth).
-- set_activity parks the current one and unparks the other in one step, so every op
-- below stays as it was and works on the current activity.
local MAX_ACTIVITIES = 12
-- Settings of the whole session, not of one activity: who may be in which group, whether
-- names are shown, the language. They follow into every activity.
local WIDE_SETTINGS = {'perspectives', 'anonymous', 'language', 'lock_silent',
  'show_provenance', 'approval_required'}
local plan_ops = {set_activity = true, add_activity = true, edit_activity = true,
  remove_activity = true, move_activity = true}

local function plan_load()
  local m = redis.call('HMGET', K_META, 'plan', 'activity', 'title')
  local plan, current
  if m[1] then
    plan, current = cjson.decode(m[1]), m[2]
  else
    plan, current = {{id = 'a1', title = m[3]}}, 'a1'
  end
  for _, a in ipairs(plan) do
    if a.id == current then a.prompts, a.phase = cjson.decode(meta_list[3]), phase end
  end
  return plan, current
end

local function plan_index(plan, id)
  for i, a in ipairs(plan) do if a.id == id then return i end end
  return nil
end

local function plan_activities(plan)
  local out = {}
  for _, a in ipairs(plan) do table.insert(out, {id = a.id, title = a.title}) end
  return out
end

local function plan_changed(plan, current)
  redis.call('HSET', K_META, 'plan', cjson.encode(plan), 'activity', current)
  emit('plan_changed', {activities = plan_activities(plan), plan = plan})
end

local function numbered(texts)
  local prompts = {}
  for i, text in ipairs(texts) do prompts[i] = {id = 'q' .. i, text = text} end
  return prompts
end

if plan_ops[op] then
  if phase == 'closed' then
    return fail('wrong_phase', {phase = 'collect, cluster, vote, results'})
  end
  local plan, current = plan_load()
  if op == 'set_activity' then
    local i = plan_index(plan, args.activity_id)
    if not i then return fail('unknown_activity') end
    if args.activity_id == current then return ok({}) end
    -- Park the current activity ...
    local m = redis.call('HMGET', K_META, 'timer', 'settings', 'corder')
    redis.call('HSET', K_ACTS, current, cjson.encode({timer = m[1], settings = m[2],
      corder = m[3] or '0', notes = redis.call('HGETALL', K_NOTES),
      clusters = redis.call('HGETALL', K_CLUSTERS), ballots = redis.call('HGETALL', K_BALLOTS),
      totals = redis.call('HGETALL', K_TOTALS)}))
    redis.call('DEL', K_NOTES, K_CLUSTERS, K_BALLOTS, K_TOTALS)
    -- ... and bring the other one in, with the session's own settings.
    local target = plan[i]
    local blob = cjson.decode(redis.call('HGET', K_ACTS, target.id))
    redis.call('HDEL', K_ACTS, target.id)
    local s = cjson.decode(blob.settings)
    for _, k in ipairs(WIDE_SETTINGS) do
      if settings[k] ~= nil then s[k] = settings[k] end
    end
    redis.call('HSET', K_META, 'phase', target.phase, 'prompts', cjson.encode(target.prompts),
      'timer', blob.timer, 'settings', cjson.encode(s), 'corder', blob.corder)
    for _, part in ipairs({{K_NOTES, blob.notes}, {K_CLUSTERS, blob.clusters},
                           {K_BALLOTS, blob.ballots}, {K_TOTALS, blob.totals}}) do
      local list = part[2]
      for j = 1, #list, 2 do redis.call('HSET', part[1], list[j], list[j + 1]) end
    end
    -- A new activity: nobody is done in it yet (as with a new phase).
    local all = redis.call('HGETALL', K_PARTS)
    for j = 1, #all, 2 do
      local p = cjson.decode(all[j + 1])
      if p.done ~= nil then
        p.done = nil
        redis.call('HSET', K_PARTS, all[j], cjson.encode(p))
      end
    end
    redis.call('HSET', K_META, 'plan', cjson.encode(plan), 'activity', target.id)
    -- The event carries the new activity whole (its raw stored values): every process's
    -- room replaces its copy with it (server/room.py), and cuts it per role.
    emit('activity_changed', {activity_id = target.id, previous = current,
      activities = plan_activities(plan), plan = plan, phase = target.phase,
      prompts = target.prompts, timer = cjson.decode(blob.timer), settings = s,
      notes = blob.notes, clusters = blob.clusters, ballots = blob.ballots,
      totals = blob.totals})
    return ok({})
  end
  if op == 'add_activity' then
    if #plan >= MAX_ACTIVITIES then
      return fail('too_many_activities', {max = MAX_ACTIVITIES})
    end
    local at = #plan + 1
    if not isnull(args.after) then
      local i = plan_index(plan, args.after)
      if not i then return fail('unknown_activity') end
      at = i + 1
    end
    local used = {}
    for _, a in ipairs(plan) do used[a.id] = true end
    local id
    repeat id = 'a' .. redis.call('HINCRBY', K_META, 'aseq', 1) until not used[id]
    local s = cjson.decode(meta_list[2])
    for k, v in pairs(args.settings) do s[k] = v end
    redis.call('HSET', K_ACTS, id, cjson.encode({timer = cjson.encode({running = false,
      ends_at = NULL, remaining_ms = NULL}), settings = cjson.encode(s), corder = '0',
      notes = {}, clusters = {}, ballots = {}, totals = {}}))
    table.insert(plan, at, {id = id, title = args.title, prompts = numbered(args.prompts),
      phase = 'collect'})
    plan_changed(plan, current)
    return ok({activity_id = id})
  end
  local i = plan_index(plan, args.activity_id)
  if not i then return fail('unknown_activity') end
  local a = plan[i]
  if op == 'edit_activity' then
    if args.prompts == nil and args.title == nil then return ok({}) end  -- nothing to change
    if args.prompts ~= nil then
      -- The current activity's questions change with add_prompt and edit_prompt.
      if a.id == current then return fail('activity_current') end
      -- A parked activity with notes keeps every question that may hold them.
      local blob = cjson.decode(redis.call('HGET', K_ACTS, a.id))
      if #blob.notes > 0 and #args.prompts < #a.prompts then
        return fail('activity_not_empty')
      end
      a.prompts = numbered(args.prompts)
    end
    if args.title ~= nil then a.title = args.title end
  elseif op == 'remove_activity' then
    if a.id == current then return fail('activity_current') end
    local blob = cjson.decode(redis.call('HGET', K_ACTS, a.id))
    if #blob.notes > 0 then return fail('activity_not_empty') end
    table.remove(plan, i)
    redis.call('HDEL', K_ACTS, a.id)
  else  -- move_activity
    if args.to >= #plan then return fail('bad_args', {field = 'to'}) end
    table.remove(plan, i)
    table.insert(plan, args.to + 1, a)
  end
  plan_changed(plan, current)
  return ok({})
end

-- Take a participant's reactions off a note (each emoji's count down by one); true when
-- it had any. remove_participant uses it on the current activity and the parked ones.
local function take_reactions(note, pid)
  if type(note.reacted) ~= 'table' then return false end
  local prefix, took = pid .. '|', false
  for key, _ in pairs(note.reacted) do
    if string.sub(key, 1, #prefix) == prefix then
      local emoji = string.sub(key, #prefix + 1)
      note.reacted[key] = nil
      local n = (note.reactions[emoji] or 1) - 1
      if n > 0 then note.reactions[emoji] = n else note.reactions[emoji] = nil end
      took = true
    end
  end
  return took
end

-- A removed participant's notes, dots and reactions go from every parked activity too
-- (the current one is done by remove_participant itself).
local function purge_parked(pid)
  local all = redis.call('HGETALL', K_ACTS)
  for i = 1, #all, 2 do
    local blob = cjson.decode(all[i + 1])
    local gone, notes = {}, {}
    for j = 1, #blob.notes, 2 do
      local raw = blob.notes[j + 1]
      local note = cjson.decode(raw)
      if note.author_id == pid then
        gone[note.id] = true
      else
        if take_reactions(note, pid) then raw = cjson.encode(note) end
        table.insert(notes, blob.notes[j])
        table.insert(notes, raw)
      end
    end
    local totals, ballots = {}, {}
    for j = 1, #blob.totals, 2 do totals[blob.totals[j]] = tonumber(blob.totals[j + 1]) end
    for j = 1, #blob.ballots, 2 do
      local owner, keep, any = blob.ballots[j], {}, false
      for item, n in pairs(cjson.decode(blob.ballots[j + 1])) do
        if owner == pid or gone[item] then
          totals[item] = (totals[item] or 0) - n
        else
          keep[item] = n
          any = true
        end
      end
      if any then
        table.insert(ballots, owner)
        table.insert(ballots, cjson.encode(keep))
      end
    end
    local flat = {}
    for item, n in pairs(totals) do
      if n > 0 and not gone[item] then
        table.insert(flat, item)
        table.insert(flat, tostring(n))
      end
    end
    blob.notes, blob.ballots, blob.totals = notes, ballots, flat
    redis.call('HSET', K_ACTS, all[i], cjson.encode(blob))
  end
end

-- sign_up is taken after the session too (docs/decisions.md): from the receipt page.
-- Facilitation ops of version 1.1 work in every phase but closed: there, it is the wrong one.
if phase == 'closed' and (op == 'add_paper_note' or op == 'approve_notes') then
  return fail('wrong_phase', {phase = 'collect, cluster, vote, results'})
end
-- Sorting help (version 1.1): applying and undoing themes while collecting and sorting.
if (op == 'apply_themes' or op == 'undo_themes') and phase ~= 'collect' and phase ~= 'cluster' then
  return fail('wrong_phase', {phase = 'collect, cluster'})
end

if phase == 'closed' and op ~= 'set_phase' and op ~= 'join' and op ~= 'update_settings'
    and op ~= 'sign_up' then
  return fail('closed')
end

local function get_json(key, field)
  local raw = redis.call('HGET', key, field)
  if not raw then return nil end
  return cjson.decode(raw)
end

local function put_json(key, field, value)
  redis.call('HSET', key, field, cjson.encode(value))
end

local function get_note(id)
  return get_json(K_NOTES, id)
end

-- Remove every dot on the given items from every ballot (refunds). Returns the ids
-- that had dots, so that the event tells clients which items lost theirs.
local function refund(items)
  local wanted = {}
  local any = false
  for _, item in ipairs(items) do
    if redis.call('HEXISTS', K_TOTALS, item) == 1 then
      wanted[item] = true
      any = true
    end
  end
  local removed = {}
  if not any then return removed end
  local all = redis.call('HGETALL', K_BALLOTS)
  for i = 1, #all, 2 do
    local ballot = cjson.decode(all[i + 1])
    local changed = false
    for item, _ in pairs(wanted) do
      if ballot[item] then ballot[item] = nil; changed = true end
    end
    if changed then
      if next(ballot) == nil then redis.call('HDEL', K_BALLOTS, all[i])
      else redis.call('HSET', K_BALLOTS, all[i], cjson.encode(ballot)) end
    end
  end
  for item, _ in pairs(wanted) do
    redis.call('HDEL', K_TOTALS, item)
    table.insert(removed, item)
  end
  return removed
end

local function author_of(note)
  return note.author_id
end

-- A sign-up's contact is personal data: when its offer is taken back, replaced or goes
-- with its participant, the event that carried the contact goes from the stream too
-- (docs/security.md, "Contacts"). A client or process that then misses that event
-- misses an offer that is gone anyway (a replay that finds the hole sends a snapshot).
local function forget_contact(entry)
  if entry and not isnull(entry.contact) and entry.seq then
    redis.call('XDEL', K_EVENTS, entry.seq .. '-0')
  end
end

local function cluster_exists(id)
  return redis.call('HEXISTS', K_CLUSTERS, id) == 1
end

-- ---------------------------------------------------------------- op limits
-- The contract: too_fast counts per participant over all its sockets (and all server
-- processes), so the buckets live here, next to the change, not in a socket. Each is
-- refilled lazily from its stamp: O(1) per op (one HGET, one HSET).
--   every participant op: bursts of 30, then 3 a second. A phone that resends an outbox
--     of 20 ops after a reconnect passes at once; a person placing 5 dots in a few
--     seconds never comes near it.
--   add_note besides: bursts of 20, then one per 3 seconds (a person writes a note every
--     few seconds; a script on any number of sockets gets ~22 notes into 5 seconds).
-- A resent op id that was answered before never gets here (its first answer is kept).
local OPS_BURST, OPS_PER_MS = 30, 3 / 1000
local NOTES_BURST, NOTES_PER_MS = 20, 1 / 3000
local limits = nil -- the actor's {ops tokens, note tokens, stamp, has posted (0/1)}

local function save_limits()
  local fresh = redis.call('HSET', K_LIMITS, actor, string.format('%.3f %.3f %d %d',
    limits[1], limits[2], limits[3], limits[4]))
  -- A refused op (say no_votes_left) still spent its token: a key made here must not
  -- wait for ok() to get its expiry.
  if fresh == 1 then redis.call('PEXPIRE', K_LIMITS, retention) end
end

if role == 'participant' then
  local raw = redis.call('HGET', K_LIMITS, actor)
  if raw then
    local a, b, c, d = string.match(raw, '^(%S+) (%S+) (%S+) (%S+)$')
    limits = {tonumber(a), tonumber(b), tonumber(c), tonumber(d)}
  else
    -- A first op, or one of a removed participant on a socket not yet closed.
    if redis.call('HEXISTS', K_PARTS, actor) == 0 then return fail('wrong_token') end
    limits = {OPS_BURST, NOTES_BURST, now, 0}
  end
  local elapsed = math.max(0, now - limits[3])
  local ops_t = math.min(OPS_BURST, limits[1] + elapsed * OPS_PER_MS)
  local notes_t = math.min(NOTES_BURST, limits[2] + elapsed * NOTES_PER_MS)
  local wait = 0
  if ops_t < 1 then wait = (1 - ops_t) / OPS_PER_MS end
  if op == 'add_note' and notes_t < 1 then wait = math.max(wait, (1 - notes_t) / NOTES_PER_MS) end
  if wait > 0 then
    -- "Not now", not "no": nothing is written and no answer is kept under the op id, so
    -- the same op sent again later is served.
    return cjson.encode({ok = false, code = 'too_fast', params = {retry_ms = math.ceil(wait)}})
  end
  if op == 'add_note' then notes_t = notes_t - 1 end
  limits = {ops_t - 1, notes_t, now, limits[4]}
  save_limits()
end

-- Setting lock_silent: a locked room also takes no notes or dots from participants who
-- have posted neither yet (accounts made in advance to flood the room later).
local function silent_locked()
  if role ~= 'participant' or settings.lock_silent ~= true or limits[4] == 1 then return false end
  if redis.call('HGET', K_META, 'locked') ~= '1' then return false end
  -- Dots placed before this flag was kept count as posting too.
  return redis.call('HEXISTS', K_BALLOTS, actor) == 0
end

local function posted()
  if limits and limits[4] == 0 then
    limits[4] = 1
    save_limits()
  end
end

-- ---------------------------------------------------------------- participants
if op == 'join' then
  if phase == 'closed' then return fail('no_code') end
  if redis.call('HGET', K_META, 'locked') == '1' then return fail('locked') end
  local count = redis.call('HINCRBY', K_META, 'count', 1)
  local p = {participant_id = actor, name = NULL, perspective = NULL, joined_at = now}
  put_json(K_PARTS, actor, p)
  redis.call('HSET', K_TOKENS, args.token_hash, actor)
  emit('participant_changed', {participant = p, count = count, joined = true})
  return ok({participant_id = actor})
end

if op == 'set_profile' then
  local p = get_json(K_PARTS, actor)
  if not p then return fail('wrong_token') end
  local previous = p.perspective
  if args.name ~= nil then p.name = args.name end
  if args.perspective ~= nil then p.perspective = args.perspective end
  put_json(K_PARTS, actor, p)
  local count = tonumber(redis.call('HGET', K_META, 'count'))
  emit('participant_changed', {participant = p, count = count, previous_perspective = previous})
  return ok({})
end

-- ---------------------------------------------------------------- notes
-- A note written for one activity of the plan must not land in another (a phone's outbox
-- sent after the room moved on: the question ids q1, q2, ... repeat in every activity).
if (op == 'add_note' or op == 'add_paper_note') and not isnull(args.activity_id) then
  local current = redis.call('HGET', K_META, 'activity') or 'a1'
  if args.activity_id ~= current then return fail('wrong_activity') end
end

if op == 'add_note' then
  if phase ~= 'collect' then return fail('wrong_phase', {phase = 'collect'}) end
  local prompts = cjson.decode(meta_list[3])
  local found = false
  for _, pr in ipairs(prompts) do if pr.id == args.prompt_id then found = true end end
  if not found then return fail('no_prompt') end
  if silent_locked() then return fail('locked_posting') end
  if redis.call('HLEN', K_NOTES) >= notes_per_workshop then
    return fail('notes_full', {max = notes_per_workshop})
  end
  local mine = tonumber(redis.call('HGET', K_NOTECOUNT, actor) or '0')
  if mine >= notes_per_participant then
    return fail('too_many_notes', {max = notes_per_participant})
  end
  local note = {id = fresh_id, prompt_id = args.prompt_id, text = args.text, cluster_id = NULL,
    hidden = false, created_at = now, author_id = actor, source = 'phone'}
  -- Setting approval_required: nobody but its author and the facilitator sees it until
  -- approve_notes (server/views.py); it is no item and takes no dots until then.
  if settings.approval_required == true then note.pending = true end
  put_json(K_NOTES, fresh_id, note)
  redis.call('HINCRBY', K_NOTECOUNT, actor, 1)
  emit('note_added', {note = note})
  posted()
  return ok({note_id = fresh_id})
end

-- A note from a paper card, typed in by the facilitator: no author, the writer's group
-- if the workshop has groups, never pending. The same bounds as a phone's note (length
-- and emptiness are checked by server/args.py, the workshop's cap here).
if op == 'add_paper_note' then
  local prompts = cjson.decode(meta_list[3])
  local found = false
  for _, pr in ipairs(prompts) do if pr.id == args.prompt_id then found = true end end
  if not found then return fail('no_prompt') end
  if redis.call('HLEN', K_NOTES) >= notes_per_workshop then
    return fail('notes_full', {max = notes_per_workshop})
  end
  local note = {id = fresh_id, prompt_id = args.prompt_id, text = args.text, cluster_id = NULL,
    hidden = false, created_at = now, author_id = NULL, source = 'paper',
    perspective = args.perspective}
  put_json(K_NOTES, fresh_id, note)
  emit('note_added', {note = note})
  return ok({note_id = fresh_id})
end

-- Let waiting notes through to everyone, one note_approved each, in the order asked.
-- A note that is gone, hidden or not waiting is left alone and named in the answer;
-- when none was waiting, nothing changes and the answer is a refusal that says so.
if op == 'approve_notes' then
  local approved, skipped = {}, {}
  for _, nid in ipairs(args.note_ids) do
    local note = get_note(nid)
    local reason = nil
    if not note then reason = 'no_note'
    elseif note.hidden then reason = 'hidden'
    elseif note.pending ~= true then reason = 'not_pending' end
    if reason then
      table.insert(skipped, {note_id = nid, reason = reason})
    else
      note.pending = nil
      put_json(K_NOTES, nid, note)
      emit('note_approved', {note_id = nid, note = note})
      table.insert(approved, nid)
    end
  end
  if #approved == 0 then return fail('not_pending') end
  local result = {approved = approved}
  if #skipped > 0 then result.skipped = skipped end  -- (an empty table would be an object)
  return ok(result)
end

-- Hide or show a note (moderate_note, hide_participant_notes). A hidden note is no item:
-- its dots go back, as when it is deleted (a note in a cluster has none of its own).
-- Showing it again brings none back.
local function set_hidden(note, hidden)
  note.hidden = hidden
  -- Its reactions go with it, as its dots do (showing it again brings none back).
  if hidden then note.reactions, note.reacted = nil, nil end
  put_json(K_NOTES, note.id, note)
  local removed = {}
  if hidden and isnull(note.cluster_id) then removed = refund({note.id}) end
  emit('note_moderated', {note = note, removed_items = removed})
end

if op == 'edit_note' or op == 'delete_note' or op == 'moderate_note' then
  local note = get_note(args.note_id)
  if not note then return fail('no_note') end
  if role == 'participant' then
    if author_of(note) ~= actor then return fail('not_own_note') end
    if op == 'edit_note' and phase ~= 'collect' then return fail('wrong_phase', {phase = 'collect'}) end
  end
  if op == 'edit_note' then
    note.text = args.text
    note.edited_at = now
    -- With approval required, a participant's changed text waits for approval again:
    -- else an approved note could be changed into anything behind the facilitator's back.
    -- `requeued`: it was out, so whoever had it drops it (server/views.py).
    local requeued = nil
    if role == 'participant' and settings.approval_required == true then
      if note.pending ~= true then requeued = true end
      note.pending = true
    end
    put_json(K_NOTES, note.id, note)
    emit('note_edited', {note = note, requeued = requeued})
  elseif op == 'moderate_note' then
    set_hidden(note, args.hidden)
  else
    redis.call('HDEL', K_NOTES, note.id)
    if not isnull(note.author_id) and note.author_id ~= '' then
      if redis.call('HINCRBY', K_NOTECOUNT, note.author_id, -1) <= 0 then
        redis.call('HDEL', K_NOTECOUNT, note.author_id)
      end
    end
    local removed = refund({note.id})
    -- `pending` and its author (only when it waited): nobody else ever had it, so nobody
    -- else hears of it (server/views.py).
    local waited = nil
    if note.pending == true then waited = note.author_id end
    emit('note_deleted', {note_id = note.id, cluster_id = note.cluster_id, removed_items = removed,
      pending = note.pending, author_id = waited})
  end
  return ok({})
end

-- ---------------------------------------------------------------- clusters
if op == 'cluster' then
  local cid = args.cluster_id
  local cluster
  if isnull(cid) then
    cid = fresh_id
    local order = redis.call('HINCRBY', K_META, 'corder', 1)
    local title = args.title
    if isnull(title) then title = '' end
    cluster = {id = cid, title = title, order = order}
  else
    cluster = get_json(K_CLUSTERS, cid)
    if not cluster then return fail('no_cluster') end
    if not isnull(args.title) then cluster.title = args.title end
  end
  local notes = {}
  for _, nid in ipairs(args.note_ids) do
    local note = get_note(nid)
    if not note then return fail('no_note') end
    table.insert(notes, note)
  end
  local assign = {}
  local ids = {}
  for _, note in ipairs(notes) do
    if note.cluster_id ~= cid then
      note.cluster_id = cid
      put_json(K_NOTES, note.id, note)
    end
    assign[note.id] = cid
    table.insert(ids, note.id)
  end
  put_json(K_CLUSTERS, cid, cluster)
  -- A note that joins a cluster is no longer an item of its own: its dots go back.
  local removed = refund(ids)
  emit('cluster_changed', {cluster = cluster, assign = assign, removed_items = removed})
  return ok({cluster_id = cid})
end

if op == 'uncluster' then
  -- Every note must exist before any is changed: a refusal changes nothing.
  for _, nid in ipairs(args.note_ids) do
    if redis.call('HEXISTS', K_NOTES, nid) == 0 then return fail('no_note') end
  end
  local assign = {}
  local touched = {}
  for _, nid in ipairs(args.note_ids) do
    local note = get_note(nid)
    if not note then return fail('no_note') end
    if not isnull(note.cluster_id) then
      touched[note.cluster_id] = true
      note.cluster_id = NULL
      put_json(K_NOTES, note.id, note)
    end
    assign[note.id] = NULL
  end
  local cluster = NULL
  for cid, _ in pairs(touched) do cluster = get_json(K_CLUSTERS, cid) or NULL end
  emit('cluster_changed', {cluster = cluster, assign = assign, removed_items = {}})
  return ok({})
end

if op == 'rename_cluster' then
  local cluster = get_json(K_CLUSTERS, args.cluster_id)
  if not cluster then return fail('no_cluster') end
  cluster.title = args.title
  put_json(K_CLUSTERS, cluster.id, cluster)
  emit('cluster_changed', {cluster = cluster, assign = {}, removed_items = {}})
  return ok({})
end

if op == 'delete_cluster' then
  local cluster = get_json(K_CLUSTERS, args.cluster_id)
  if not cluster then return fail('no_cluster') end
  local assign = {}
  local all = redis.call('HGETALL', K_NOTES)
  for i = 1, #all, 2 do
    local note = cjson.decode(all[i + 1])
    if note.cluster_id == cluster.id then
      note.cluster_id = NULL
      redis.call('HSET', K_NOTES, note.id, cjson.encode(note))
      assign[note.id] = NULL
    end
  end
  redis.call('HDEL', K_CLUSTERS, cluster.id)
  local removed = refund({cluster.id})
  emit('cluster_deleted', {cluster_id = cluster.id, assign = assign, removed_items = removed})
  return ok({})
end

-- Merge a cluster into another: its notes, its dots (not given back, even past
-- max_votes_per_item) and its sign-ups go to into_id; cluster_id is gone. The event
-- carries each changed ballot, so every phone's `mine` follows.
if op == 'merge_clusters' then
  if phase ~= 'cluster' and phase ~= 'vote' then return fail('wrong_phase', {phase = 'cluster'}) end
  if args.cluster_id == args.into_id then return fail('merge_same') end
  local from = get_json(K_CLUSTERS, args.cluster_id)
  local into = get_json(K_CLUSTERS, args.into_id)
  if not from or not into then return fail('no_cluster') end
  local assign = {}
  local all = redis.call('HGETALL', K_NOTES)
  for i = 1, #all, 2 do
    local note = cjson.decode(all[i + 1])
    if note.cluster_id == from.id then
      note.cluster_id = into.id
      redis.call('HSET', K_NOTES, note.id, cjson.encode(note))
      assign[note.id] = into.id
    end
  end
  redis.call('HDEL', K_CLUSTERS, from.id)
  local ballots = {}
  local moved = tonumber(redis.call('HGET', K_TOTALS, from.id) or '0')
  if moved > 0 then
    local bs = redis.call('HGETALL', K_BALLOTS)
    for i = 1, #bs, 2 do
      local ballot = cjson.decode(bs[i + 1])
      local n = ballot[from.id]
      if n then
        ballot[from.id] = nil
        ballot[into.id] = (ballot[into.id] or 0) + n
        redis.call('HSET', K_BALLOTS, bs[i], cjson.encode(ballot))
        ballots[bs[i]] = ballot
      end
    end
    redis.call('HDEL', K_TOTALS, from.id)
    redis.call('HINCRBY', K_TOTALS, into.id, moved)
  end
  local total = tonumber(redis.call('HGET', K_TOTALS, into.id) or '0')
  local signups = {}
  local ss = redis.call('HGETALL', K_SIGNUPS)
  for i = 1, #ss, 2 do
    local rec = cjson.decode(ss[i + 1])
    if rec[from.id] then
      if not rec[into.id] then rec[into.id] = rec[from.id] else forget_contact(rec[from.id]) end
      rec[from.id] = nil
      redis.call('HSET', K_SIGNUPS, ss[i], cjson.encode(rec))
      signups[ss[i]] = rec
    end
  end
  emit('clusters_merged', {cluster_id = from.id, into = into, assign = assign,
    ballots = ballots, total = total, signups = signups})
  return ok({})
end

-- ---------------------------------------------------------------- sorting help
-- apply_themes: every theme of a proposal at once, each as a `cluster` op would do it
-- (a new cluster, or the notes added to an existing one; the same cluster_changed event,
-- dots on notes that join a cluster given back). What it did is kept under an undo id,
-- so that undo_themes can put it all back in one step, while nothing it touched has
-- changed since: the newest UNDO_KEPT records, none older than UNDO_TTL_MS (mirrors of
-- server/rules.py).
local UNDO_KEPT, UNDO_TTL_MS = 20, 24 * 3600 * 1000

local function keep_undo(undo_id, record)
  local index = get_json(K_UNDO, '#index') or {}
  local kept = {}
  for _, entry in ipairs(index) do
    if entry.at >= now - UNDO_TTL_MS then table.insert(kept, entry)
    else redis.call('HDEL', K_UNDO, entry.id) end
  end
  table.insert(kept, {id = undo_id, at = now})
  while #kept > UNDO_KEPT do
    redis.call('HDEL', K_UNDO, kept[1].id)
    table.remove(kept, 1)
  end
  put_json(K_UNDO, undo_id, record)
  put_json(K_UNDO, '#index', kept)
end

if op == 'apply_themes' then
  -- Everything is checked before anything changes: a refusal changes nothing.
  local plan = {}
  for i, theme in ipairs(args.themes) do
    local cluster = nil
    if not isnull(theme.cluster_id) then
      cluster = get_json(K_CLUSTERS, theme.cluster_id)
      if not cluster then return fail('no_cluster') end
    end
    local notes = {}
    for _, nid in ipairs(theme.note_ids) do
      local note = get_note(nid)
      if not note then return fail('no_note') end
      table.insert(notes, note)
    end
    plan[i] = {cluster = cluster, notes = notes, title = theme.title}
  end
  -- notes: note id -> {from = its cluster before (or null), to = its theme's cluster};
  -- titles: cluster id -> its title just after (a rename since makes the undo stale).
  local record = {at = now, made = {}, notes = {}, titles = {}}
  local cluster_ids = {}
  for i, step in ipairs(plan) do
    local cluster = step.cluster
    if not cluster then
      local order = redis.call('HINCRBY', K_META, 'corder', 1)
      cluster = {id = fresh_id .. '-' .. i, title = step.title, order = order}
      table.insert(record.made, cluster.id)
    else
      -- Two themes for one cluster: the second sees the first's notes in it.
      cluster = get_json(K_CLUSTERS, cluster.id) or cluster
    end
    local assign, ids = {}, {}
    for _, note in ipairs(step.notes) do
      record.notes[note.id] = {from = note.cluster_id, to = cluster.id}
      if note.cluster_id ~= cluster.id then
        note.cluster_id = cluster.id
        put_json(K_NOTES, note.id, note)
      end
      assign[note.id] = cluster.id
      table.insert(ids, note.id)
    end
    put_json(K_CLUSTERS, cluster.id, cluster)
    record.titles[cluster.id] = cluster.title
    emit('cluster_changed', {cluster = cluster, assign = assign, removed_items = refund(ids)})
    table.insert(cluster_ids, cluster.id)
  end
  local undo_id = fresh_id .. '-u'
  keep_undo(undo_id, record)
  return ok({cluster_ids = cluster_ids, undo_id = undo_id})
end

if op == 'undo_themes' then
  local record = get_json(K_UNDO, args.undo_id)
  if not record or record.at < now - UNDO_TTL_MS then return fail('undo_stale') end
  -- Stale: a note moved (or gone) since, a cluster renamed or gone, a note put into one
  -- of the clusters it made, or a note's first cluster gone.
  local made = {}
  for _, cid in ipairs(record.made) do made[cid] = true end
  for cid, title in pairs(record.titles) do
    local cluster = get_json(K_CLUSTERS, cid)
    if not cluster or cluster.title ~= title then return fail('undo_stale') end
  end
  for nid, move in pairs(record.notes) do
    local note = get_note(nid)
    if not note or note.cluster_id ~= move.to then return fail('undo_stale') end
    if not isnull(move.from) and move.from ~= move.to and not cluster_exists(move.from) then
      return fail('undo_stale')
    end
  end
  if next(made) ~= nil then
    local all = redis.call('HGETALL', K_NOTES)
    for i = 1, #all, 2 do
      local note = cjson.decode(all[i + 1])
      if not isnull(note.cluster_id) and made[note.cluster_id] and not record.notes[note.id] then
        return fail('undo_stale')
      end
    end
  end
  -- Back where each note was: per cluster a note goes back to (or from, for a note that
  -- was loose and went into an existing cluster) one cluster_changed, in id order; then
  -- each cluster it made is deleted (cluster_deleted, its loose notes with it).
  local back, loose, freed = {}, {}, {}
  for nid, move in pairs(record.notes) do
    if move.from ~= move.to then
      local note = get_note(nid)
      note.cluster_id = move.from
      put_json(K_NOTES, nid, note)
      if not isnull(move.from) then
        back[move.from] = back[move.from] or {}
        back[move.from][nid] = move.from
      elseif made[move.to] then
        freed[move.to] = freed[move.to] or {}
        freed[move.to][nid] = NULL
      else
        loose[move.to] = loose[move.to] or {}
        loose[move.to][nid] = NULL
      end
    end
  end
  local function sorted_keys(t)
    local out = {}
    for k, _ in pairs(t) do table.insert(out, k) end
    table.sort(out)
    return out
  end
  for _, cid in ipairs(sorted_keys(back)) do
    emit('cluster_changed', {cluster = get_json(K_CLUSTERS, cid), assign = back[cid],
      removed_items = {}})
  end
  for _, cid in ipairs(sorted_keys(loose)) do
    emit('cluster_changed', {cluster = get_json(K_CLUSTERS, cid), assign = loose[cid],
      removed_items = {}})
  end
  for _, cid in ipairs(record.made) do
    redis.call('HDEL', K_CLUSTERS, cid)
    emit('cluster_deleted', {cluster_id = cid, assign = freed[cid] or {},
      removed_items = refund({cid})})
  end
  redis.call('HDEL', K_UNDO, args.undo_id)
  local index = get_json(K_UNDO, '#index') or {}
  local kept = {}
  for _, entry in ipairs(index) do
    if entry.id ~= args.undo_id then table.insert(kept, entry) end
  end
  if #kept > 0 then put_json(K_UNDO, '#index', kept) else redis.call('HDEL', K_UNDO, '#index') end
  return ok({})
end

-- ---------------------------------------------------------------- sign-ups
-- "Ik doe mee": a participant offers to help with an item (in results, and after the
-- session from the receipt page). The contact comes only with consent (server/args.py
-- dropped it otherwise); taking it back removes the entry, contact and all.
if op == 'sign_up' then
  if phase ~= 'results' and phase ~= 'closed' then
    return fail('wrong_phase', {phase = 'results'})
  end
  local item = args.item_id
  local valid = cluster_exists(item)
  if not valid then
    local note = get_note(item)
    valid = note ~= nil and isnull(note.cluster_id) and not note.hidden
  end
  if not valid then return fail('no_item') end
  local rec = get_json(K_SIGNUPS, actor) or {}
  if not args.on and not rec[item] then return ok({}) end  -- nothing to take back
  forget_contact(rec[item])
  local at = emit('signups_changed', {participant_id = actor, item_id = item, on = args.on,
    contact = args.contact, at = now})
  if args.on then rec[item] = {contact = args.contact, at = now, seq = at}
  else rec[item] = nil end
  if next(rec) == nil then redis.call('HDEL', K_SIGNUPS, actor)
  else put_json(K_SIGNUPS, actor, rec) end
  return ok({})
end

-- ---------------------------------------------------------------- votes
if op == 'vote' then
  if phase ~= 'vote' then return fail('wrong_phase', {phase = 'vote'}) end
  local item = args.item_id
  local valid = false
  if cluster_exists(item) then
    valid = true
  else
    local note = get_note(item)
    if note and isnull(note.cluster_id) and not note.hidden and note.pending ~= true then
      valid = true
    end
  end
  if not valid then return fail('no_item') end
  local raw = redis.call('HGET', K_BALLOTS, actor)
  local ballot = {}
  if raw then ballot = cjson.decode(raw) end
  local used = 0
  for _, n in pairs(ballot) do used = used + n end
  local current = ballot[item] or 0
  local delta = args.delta
  if delta > 0 and silent_locked() then return fail('locked_posting') end
  if delta > 0 then
    if used + delta > tonumber(settings.votes_per_participant) then return fail('no_votes_left') end
    if current + delta > tonumber(settings.max_votes_per_item) then
      return fail('item_full', {max = settings.max_votes_per_item})
    end
  elseif current + delta < 0 then
    return fail('no_vote_to_remove')
  end
  if current + delta == 0 then ballot[item] = nil else ballot[item] = current + delta end
  if next(ballot) == nil then redis.call('HDEL', K_BALLOTS, actor)
  else redis.call('HSET', K_BALLOTS, actor, cjson.encode(ballot)) end
  local total = redis.call('HINCRBY', K_TOTALS, item, delta)
  if total <= 0 then redis.call('HDEL', K_TOTALS, item) end
  local voters = redis.call('HLEN', K_BALLOTS)
  local mine = ballot
  if next(mine) == nil then mine = NULL end
  emit('votes_changed', {participant_id = actor, item_id = item, delta = delta,
    mine = mine, total = total, voters = voters})
  if delta > 0 then posted() end
  return ok({mine = mine})
end

-- ---------------------------------------------------------------- done and reactions
-- "I'm done" is a flag in the participant's own entry (no key of its own): the count is
-- derived from the entries, so it cannot drift from them; set_phase clears every flag in
-- the same step (clear_done below).
if op == 'set_done' then
  local p = get_json(K_PARTS, actor)
  if not p then return fail('wrong_token') end
  if (p.done == true) == args.done then return ok({}) end  -- said before: no change
  if args.done then p.done = true else p.done = nil end
  put_json(K_PARTS, actor, p)
  emit('participant_done', {participant_id = actor, done = args.done})
  return ok({})
end

-- Reactions live on the note itself: `reactions` {emoji: count} and `reacted`
-- {"<pid>|<emoji>": 1}, the set that makes a reaction count once per person and emoji
-- (a resend or a second phone finds it there). The views cut `reacted` away.
if op == 'react' then
  if phase ~= 'collect' and phase ~= 'cluster' then
    return fail('wrong_phase', {phase = 'collect, cluster'})
  end
  local note = get_note(args.note_id)
  -- A note the participant cannot see is, to it, no note: hidden, waiting for approval,
  -- or someone else's while writing is private.
  if not note or note.hidden == true or (note.author_id ~= actor and (note.pending == true
      or (settings.private_writing == true and phase == 'collect'))) then
    return fail('no_note')
  end
  local reacted = note.reacted or {}
  local reactions = note.reactions or {}
  local key = actor .. '|' .. args.emoji
  if (reacted[key] ~= nil) == args.on then return ok({}) end  -- as it is: no change
  local n = reactions[args.emoji] or 0
  if args.on then
    reacted[key] = 1
    n = n + 1
  else
    reacted[key] = nil
    n = n - 1
  end
  if n > 0 then reactions[args.emoji] = n else reactions[args.emoji] = nil end
  note.reacted, note.reactions = reacted, reactions
  put_json(K_NOTES, note.id, note)
  emit('note_reacted', {note_id = note.id, participant_id = actor, emoji = args.emoji,
    on = args.on, reactions = reactions})
  return ok({})
end

-- A new phase: nobody is done in it yet.
local function clear_done()
  local all = redis.call('HGETALL', K_PARTS)
  for i = 1, #all, 2 do
    local p = cjson.decode(all[i + 1])
    if p.done ~= nil then
      p.done = nil
      redis.call('HSET', K_PARTS, all[i], cjson.encode(p))
    end
  end
end

-- ---------------------------------------------------------------- facilitator
if op == 'set_phase' then
  if args.phase ~= phase then
    redis.call('HSET', K_META, 'phase', args.phase)
    clear_done()
    emit('phase_changed', {phase = args.phase, previous = phase})
  end
  return ok({})
end

if op == 'set_lock' then
  redis.call('HSET', K_META, 'locked', args.locked and '1' or '0')
  emit('workshop_changed', {locked = args.locked})
  return ok({})
end

-- Remove a participant and everything it put in, in one step: its notes (dots on them
-- given back, as delete_note does), its own dots (given back to nobody), its token (it
-- can no longer come in: 4401) and its op buckets.
if op == 'remove_participant' then
  local pid = args.participant_id
  local p = get_json(K_PARTS, pid)
  if not p then return fail('no_participant') end
  local note_ids, hidden_ids = {}, {}
  local reactions = {}  -- note id -> fresh counts, for the notes it had reacted to
  local all = redis.call('HGETALL', K_NOTES)
  for i = 1, #all, 2 do
    local note = cjson.decode(all[i + 1])
    if note.author_id == pid then
      table.insert(note_ids, note.id)
      -- (A waiting note counts as hidden here: nobody else ever had it.)
      if note.hidden or note.pending == true then table.insert(hidden_ids, note.id) end
      redis.call('HDEL', K_NOTES, note.id)
    elseif take_reactions(note, pid) then
      reactions[note.id] = note.reactions
      redis.call('HSET', K_NOTES, note.id, cjson.encode(note))
    end
  end
  table.sort(note_ids)
  local removed = refund(note_ids)
  -- What is left on its ballot are dots on others' items: each item's new total.
  local totals = {}
  local raw = redis.call('HGET', K_BALLOTS, pid)
  if raw then
    for item, n in pairs(cjson.decode(raw)) do
      local total = redis.call('HINCRBY', K_TOTALS, item, -n)
      if total <= 0 then
        redis.call('HDEL', K_TOTALS, item)
        total = 0
      end
      totals[item] = total
    end
    redis.call('HDEL', K_BALLOTS, pid)
  end
  local tokens = redis.call('HGETALL', K_TOKENS)
  for i = 1, #tokens, 2 do
    if tokens[i + 1] == pid then redis.call('HDEL', K_TOKENS, tokens[i]) end
  end
  redis.call('HDEL', K_PARTS, pid)
  redis.call('HDEL', K_LIMITS, pid)
  redis.call('HDEL', K_NOTECOUNT, pid)
  -- Its offers to help go, contacts and all (also from the events that carried them).
  for _, entry in pairs(get_json(K_SIGNUPS, pid) or {}) do forget_contact(entry) end
  redis.call('HDEL', K_SIGNUPS, pid)
  redis.call('ZREM', K_PRESENCE, pid)
  purge_parked(pid)
  local count = redis.call('HINCRBY', K_META, 'count', -1)
  emit('participant_removed', {participant_id = pid, perspective = p.perspective,
    note_ids = note_ids, hidden_note_ids = hidden_ids, removed_items = removed,
    totals = totals, voters = redis.call('HLEN', K_BALLOTS), count = count,
    reactions = reactions})
  return ok({notes = #note_ids})
end

-- Hide (or show) every note of one participant: one note_moderated per note that
-- changes, in the order they were written, as moderate_note would emit them.
if op == 'hide_participant_notes' then
  local pid = args.participant_id
  if redis.call('HEXISTS', K_PARTS, pid) == 0 then return fail('no_participant') end
  local changed = {}
  local all = redis.call('HGETALL', K_NOTES)
  for i = 1, #all, 2 do
    local note = cjson.decode(all[i + 1])
    if note.author_id == pid and note.hidden ~= args.hidden then table.insert(changed, note) end
  end
  table.sort(changed, function(a, b)
    if a.created_at ~= b.created_at then return a.created_at < b.created_at end
    return a.id < b.id
  end)
  for _, note in ipairs(changed) do set_hidden(note, args.hidden) end
  return ok({count = #changed})
end

if op == 'timer' then
  local timer = cjson.decode(redis.call('HGET', K_META, 'timer'))
  local a = args.action
  if a == 'start' then
    timer = {running = true, ends_at = now + args.seconds * 1000, remaining_ms = args.seconds * 1000}
  elseif a == 'pause' then
    if timer.running then
      local left = timer.ends_at - now
      if left < 0 then left = 0 end
      timer = {running = false, ends_at = NULL, remaining_ms = left}
    end
  elseif a == 'resume' then
    if not timer.running and not isnull(timer.remaining_ms) then
      timer = {running = true, ends_at = now + timer.remaining_ms, remaining_ms = timer.remaining_ms}
    end
  else
    timer = {running = false, ends_at = NULL, remaining_ms = NULL}
  end
  redis.call('HSET', K_META, 'timer', cjson.encode(timer))
  emit('timer_changed', {timer = timer, at = now})
  return ok({})
end

if op == 'update_settings' then
  local changed = {}
  local need_budget_check = (args.votes_per_participant ~= nil) or (args.max_votes_per_item ~= nil)
  for k, v in pairs(args) do settings[k] = v; table.insert(changed, k) end
  if need_budget_check then
    local all = redis.call('HGETALL', K_BALLOTS)
    for i = 1, #all, 2 do
      local used = 0
      for _, n in pairs(cjson.decode(all[i + 1])) do
        used = used + n
        if n > tonumber(settings.max_votes_per_item) then
          return fail('bad_setting', {field = 'max_votes_per_item'})
        end
      end
      if used > tonumber(settings.votes_per_participant) then
        return fail('bad_setting', {field = 'votes_per_participant'})
      end
    end
  end
  table.sort(changed)
  redis.call('HSET', K_META, 'settings', cjson.encode(settings))
  if #changed > 0 then emit('settings_changed', {settings = settings, changed = changed}) end
  return ok({})
end

return fail('unknown_op', {op = op})
