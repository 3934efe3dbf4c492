--[[
carbonclock's job_submit/lua plugin: carbon-aware start times for jobs that opt in.

A job opts in with a comment token `carbon:flex=WINDOW` (sbatch --comment=carbon:flex=12h;
WINDOW as for `carbonclock plan --flex-start`: 12h, 90m, 50%), or through a per-partition site
default (`flex` in the site configuration below); `carbon:off` opts out of a default. For an
opted-in job the plugin runs

  carbonclock plan --zone ZONE --duration <time limit> --energy-kwh E --flex-start WINDOW --format json

with the job's time limit as the duration and the partition's zone from the site configuration,
and sets the job's begin time to the planned start. Jobs that do not opt in are untouched. A
job that gave its own --begin keeps it. A plan that fails never blocks the submission: the job
keeps its own begin time and the reason is logged (slurmctld's log, "carbonclock:").

Install (docs/slurm.md): copy this file next to slurm.conf as job_submit.lua, set
`JobSubmitPlugins=lua`, and write the site configuration carbonclock_site.lua next to it (or
name it in CARBONCLOCK_SLURM_SITE in slurmctld's environment):

  return {
    carbonclock = "/usr/local/bin/carbonclock",  -- the binary (default: "carbonclock" on PATH)
    db = "/var/lib/carbonclock/carbonclock.db",  -- store with imported/fetched grid data
    zone = "DE",                                 -- default zone for every partition
    partitions = {
      gpu = { zone = "DE", flex = "6h" },        -- opted in by default (carbon:off opts out)
      cpu = { zone = "FR" },                     -- opt-in only
    },
    power_kw_per_node = 1.0,  -- for the expected grams in the log only; the start does not depend on it
    timeout_s = 5,            -- the plan runs inside slurmctld's submission path: keep it short
    extra_args = {},          -- more `carbonclock plan` options, e.g. {"--slot", "15m"}
  }

The plan runs synchronously while slurmctld handles the submission, so it must be fast: plan on
stored data (`carbonclock grid fetch` from cron), never with --forecast-source.
]]

local NO_VAL = 4294967294
local INFINITE = 4294967295

local function log(fmt, ...)
  slurm.log_info("carbonclock: " .. fmt, ...)
end

local function script_dir()
  local source = debug.getinfo(1, "S").source
  if source:sub(1, 1) == "@" then
    return source:sub(2):match("(.*/)") or "./"
  end
  return "./"
end

local site_cache = nil
local function site_config()
  if site_cache then
    return site_cache
  end
  local path = os.getenv("CARBONCLOCK_SLURM_SITE") or (script_dir() .. "carbonclock_site.lua")
  local chunk, err = loadfile(path)
  if not chunk then
    return nil, "site configuration " .. path .. ": " .. tostring(err)
  end
  local ok, conf = pcall(chunk)
  if not ok or type(conf) ~= "table" then
    return nil, "site configuration " .. path .. " must return a table: " .. tostring(conf)
  end
  site_cache = conf
  return conf
end

-- The job's comment decides: "carbon:flex=12h" opts in, "carbon:off" opts out.
local function comment_choice(comment)
  if comment == nil then
    return nil
  end
  if comment:match("carbon:off") then
    return "off"
  end
  return comment:match("carbon:flex=([%w%.%%]+)")
end

local function partition_name(job_desc, part_list)
  if job_desc.partition ~= nil and job_desc.partition ~= "" then
    return (job_desc.partition:match("^([^,]+)"))
  end
  for name, part in pairs(part_list or {}) do
    if part.flag_default == 1 or part.flag_default == true then
      return part.name or name
    end
  end
  return nil
end

local function partition_record(part_list, name)
  for key, part in pairs(part_list or {}) do
    if part.name == name or key == name then
      return part
    end
  end
  return nil
end

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- The job's time limit in minutes: its own, else the partition's default.
local function time_limit_min(job_desc, part)
  local t = job_desc.time_limit
  if t ~= nil and t ~= NO_VAL and t ~= INFINITE and t > 0 then
    return t
  end
  if part ~= nil then
    local d = part.default_time
    if d ~= nil and d ~= NO_VAL and d ~= INFINITE and d > 0 then
      return d
    end
  end
  return nil
end

local function plan(job_desc, part_list)
  local conf, err = site_config()
  if not conf then
    return nil, err
  end
  local pname = partition_name(job_desc, part_list)
  local pconf = (conf.partitions or {})[pname or ""] or {}
  local flex = comment_choice(job_desc.comment)
  if flex == "off" then
    return nil
  end
  flex = flex or pconf.flex
  if flex == nil then
    return nil -- not opted in: untouched
  end
  if job_desc.begin_time ~= nil and job_desc.begin_time ~= 0 and job_desc.begin_time ~= NO_VAL then
    log("job %s of uid %s has its own --begin; left as it is", tostring(job_desc.name),
        tostring(job_desc.user_id))
    return nil
  end
  local zone = pconf.zone or conf.zone
  if zone == nil then
    return nil, "no zone for partition " .. tostring(pname) .. " in the site configuration"
  end
  local minutes = time_limit_min(job_desc, partition_record(part_list, pname))
  if minutes == nil then
    return nil, "the job has no time limit (and partition " .. tostring(pname) ..
        " no default): nothing to plan"
  end
  local nodes = job_desc.min_nodes
  if nodes == nil or nodes == NO_VAL or nodes == 0 then
    nodes = 1
  end
  local energy_kwh = (conf.power_kw_per_node or 1.0) * nodes * minutes / 60
  local args = {conf.carbonclock or "carbonclock", "plan", "--zone", zone, "--duration",
                minutes .. "m", "--energy-kwh", string.format("%.6f", energy_kwh),
                "--flex-start", flex, "--format", "json"}
  if conf.db then
    table.insert(args, "--db")
    table.insert(args, conf.db)
  end
  for _, a in ipairs(conf.extra_args or {}) do
    table.insert(args, a)
  end
  local quoted = {}
  for i, a in ipairs(args) do
    quoted[i] = shell_quote(a)
  end
  local cmd = string.format("timeout %d %s 2>&1", conf.timeout_s or 5, table.concat(quoted, " "))
  local pipe = io.popen(cmd, "r")
  if pipe == nil then
    return nil, "cannot run " .. cmd
  end
  local output = pipe:read("*a") or ""
  pipe:close()
  local begin = tonumber(output:match('"begin_unix_s"%s*:%s*(%d+)'))
  if begin == nil then
    return nil, "plan failed (" .. cmd .. "): " .. output:gsub("%s+$", ""):gsub("\n", " | ")
  end
  return {
    begin = begin,
    begin_utc = output:match('"begin_utc"%s*:%s*"([^"]+)"') or "?",
    saving_pct = tonumber(output:match('"saving_pct"%s*:%s*([-%d%.eE+]+)')) or 0,
    zone = zone,
    flex = flex,
    minutes = minutes,
  }
end

function slurm_job_submit(job_desc, part_list, submit_uid)
  local ok, result, err = pcall(plan, job_desc, part_list)
  if not ok then
    log("plan skipped after an error in the plugin: %s", tostring(result))
    return slurm.SUCCESS
  end
  if result == nil then
    if err ~= nil then
      log("job %s of uid %s keeps its own begin time: %s", tostring(job_desc.name),
          tostring(submit_uid), err)
    end
    return slurm.SUCCESS
  end
  job_desc.begin_time = result.begin
  log("job %s of uid %s: begin %s (zone %s, flex %s, %d min, expected saving %.1f %%)",
      tostring(job_desc.name), tostring(submit_uid), result.begin_utc, result.zone, result.flex,
      result.minutes, result.saving_pct)
  slurm.log_user("carbonclock: start planned at %s (zone %s, expected saving %.1f %%)",
                 result.begin_utc, result.zone, result.saving_pct)
  return slurm.SUCCESS
end

function slurm_job_modify(job_desc, job_rec, part_list, modify_uid)
  return slurm.SUCCESS
end

return slurm.SUCCESS
