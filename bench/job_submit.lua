--[[
job_submit.lua: the reference policy (tests/fixtures/policy.yaml), written for Slurm's job_submit/lua.

This is the comparison for hetpolicy's benchmarks (bench/controller): the
same rules, the same messages and the same error codes, as far as Lua
allows, so that both plugins do the same work for the same jobs.
tests/cluster_lua_equivalence.rs submits the same sample jobs to a cluster running
this script and to one running hetpolicy, and compares the verdicts and the
messages.

Differences from hetpolicy:
- the policy is the table POLICY below, not a YAML file: Lua has no YAML
  reader, so an edit of policy.yaml must be copied here by hand (and a bad
  edit is not refused with file:line:column);
- job_submit/lua in Slurm 22.05 does not expose most ESLURM_* codes (a
  missing slurm.ESLURM_... is nil, and returning nil ACCEPTS the job), so
  the codes are numbers (ERR below, from slurm/slurm_errno.h);
- Lua 5.1 numbers are doubles: counts above 2^53 lose precision;
- job_modify (scontrol update) applies the same rules to the fields the
  update carries; 22.05 does not show its message to the user (the error
  code's text only), as with hetpolicy;
- site options (--qpu) are read from the job's spank_job_env, where the
  SPANK plugin spank_hetpolicy.so puts them; the script does not check
  them client-side (the SPANK plugin does).

Install: put it beside slurm.conf as job_submit.lua, JobSubmitPlugins=lua.
container/cluster does that with HETPOLICY_JOB_SUBMIT=lua.
--]]

-- The reference policy.yaml, compiled by hand into the lookups hetpolicy
-- builds from it. Lists keep the file's order; max_gres and max_total_gres
-- are sorted by GRES name, as hetpolicy sorts them.
local UNLIMITED = -1
local POLICY = {
	default_partition = "cpu",
	partitions = {
		cpu = { reserved_for = {}, allowed_qos = { "normal", "long" }, default_qos = "normal" },
		gpu = { reserved_for = { "gpu" }, allowed_qos = { "normal", "gpu" }, default_qos = "gpu" },
		quantum = { reserved_for = { "qpu" }, allowed_qos = { "normal" }, default_qos = "normal" },
	},
	accelerators = {
		gpu = { partitions = { "gpu" }, action = "route" },
		qpu = { partitions = { "quantum" }, action = "reject" },
	},
	io_first_component_only = true,
	-- max_time in minutes (1-00:00:00 = 1440).
	qos = {
		normal = { max_gres = { { "gpu", 1 } }, max_time = 1440 },
		gpu = { max_gres = { { "gpu", 2 } }, max_time = 2880 },
		long = { max_gres = { { "gpu", 0 } }, max_nodes = 2, max_time = 10080 },
	},
	hetjob = { max_components = 4, max_total_gres = { { "gpu", 2 } } },
	-- Site options: the SPANK plugin (spank_hetpolicy.so) passes a
	-- component's --qpu=NAME to slurmctld as HETPOLICY_QPU=NAME in its
	-- spank_job_env.
	options = {
		{
			name = "qpu",
			arg = "NAME",
			values = { "ibm_fez", "ibm_torino" },
			required_partitions = { "quantum" },
			required_gres = {},
			job_env = "HETPOLICY_QPU",
		},
	},
}

-- slurm/slurm_errno.h (the same numbers in 22.05 .. 26.05).
local ERR = {
	InvalidPartitionName = 2000, -- ESLURM_INVALID_PARTITION_NAME
	AccessDenied = 2002, -- ESLURM_ACCESS_DENIED
	NotSupported = 2036, -- ESLURM_NOT_SUPPORTED
	AccountingPolicy = 2050, -- ESLURM_ACCOUNTING_POLICY
	InvalidTimeLimit = 2051, -- ESLURM_INVALID_TIME_LIMIT
	InvalidQos = 2066, -- ESLURM_INVALID_QOS
	InvalidGres = 2072, -- ESLURM_INVALID_GRES
}

-- slurm/slurm.h sentinels.
local NO_VAL = 4294967294
local INFINITE = 4294967295
local NO_VAL16 = 65534
local INFINITE16 = 65535
local TWO_63 = 2 ^ 63 -- NO_VAL64 and INFINITE64 are above it
local U64_MAX = 2 ^ 64

local fmt = string.format

--------------------------------------------------------------- notations

-- A count with Slurm's optional k/m/g multiplier (1024-based), or nil.
local function parse_count(text)
	local digits, suffix = text:match("^(%d+)([kKmMgG]?)$")
	if not digits or #digits > 20 then
		return nil
	end
	local n = tonumber(digits)
	local mult = 1
	suffix = suffix:lower()
	if suffix == "k" then
		mult = 1024
	elseif suffix == "m" then
		mult = 1024 ^ 2
	elseif suffix == "g" then
		mult = 1024 ^ 3
	end
	n = n * mult
	if n >= U64_MAX then
		return nil
	end
	return n
end

-- A GRES name or type: letters, digits, _ - . ; not all digits, no
-- leading '-'.
local function is_word(text)
	return text ~= nil
		and text ~= ""
		and text:match("^[%w_%-%.]+$") ~= nil
		and text:sub(1, 1) ~= "-"
		and text:match("^%d+$") == nil
end

-- Splits on `sep` (a single character), keeping empty fields.
local function split(text, sep)
	local out = {}
	local start = 1
	while true do
		local i = text:find(sep, start, true)
		if not i then
			out[#out + 1] = text:sub(start)
			return out
		end
		out[#out + 1] = text:sub(start, i - 1)
		start = i + 1
	end
end

local function trim(text)
	return (text:gsub("^%s+", ""):gsub("%s+$", ""))
end

-- NAME[:TYPE][:COUNT] or NAME[:TYPE]=COUNT (after "gres:"/"gres/"):
-- name, type, count, or nil when it cannot be read.
local function parse_gres_entry(body)
	local spec, explicit = body, nil
	local eq = body:find("=", 1, true)
	if eq then
		spec = body:sub(1, eq - 1)
		explicit = parse_count(body:sub(eq + 1))
		if explicit == nil then
			return nil
		end
	end
	local f = split(spec, ":")
	local name = f[1]
	if not is_word(name) then
		return nil
	end
	local n = #f
	if explicit ~= nil then
		if n == 1 then
			return name, nil, explicit
		elseif n == 2 and is_word(f[2]) then
			return name, f[2], explicit
		end
		return nil
	end
	if n == 1 then
		return name, nil, 1
	elseif n == 2 then
		local count = parse_count(f[2])
		if count ~= nil then
			return name, nil, count
		elseif is_word(f[2]) then
			return name, f[2], 1
		end
		return nil
	elseif n == 3 and is_word(f[2]) then
		local count = parse_count(f[3])
		if count ~= nil then
			return name, f[2], count
		end
	end
	return nil
end

-- Every GRES entry of a TRES string, in order: {name=, type=, count=} or
-- {error=entry}. Entries that are not GRES (cpu=4, mem=1G) are skipped.
local function parse_tres(tres, out, scope)
	for part in tres:gmatch("[^,;]*") do
		local entry = trim(part)
		local body = entry:match("^gres[:/](.*)$")
		if body then
			local name, gtype, count = parse_gres_entry(body)
			if name then
				out[#out + 1] = { name = name, type = gtype, count = count, scope = scope }
			else
				out[#out + 1] = { error = entry, scope = scope }
			end
		end
	end
end

-- "gpu:a100:2" or "gpu:2", as hetpolicy prints a request.
local function request_text(r)
	if r.type then
		return fmt("%s:%s:%d", r.name, r.type, r.count)
	end
	return fmt("%s:%d", r.name, r.count)
end

-- D-HH:MM:SS, HH:MM:SS under a day, or UNLIMITED.
local function time_text(minutes)
	if minutes == UNLIMITED then
		return "UNLIMITED"
	end
	local days = math.floor(minutes / 1440)
	local rest = minutes % 1440
	local hours, mins = math.floor(rest / 60), rest % 60
	if days > 0 then
		return fmt("%d-%02d:%02d:00", days, hours, mins)
	end
	return fmt("%02d:%02d:00", hours, mins)
end

-- 16G, 2T, 1500M: the largest exact unit.
local function memory_text(mb)
	if mb >= 1048576 and mb % 1048576 == 0 then
		return fmt("%dT", mb / 1048576)
	elseif mb >= 1024 and mb % 1024 == 0 then
		return fmt("%dG", mb / 1024)
	end
	return fmt("%dM", mb)
end

-- True when `asked` (minutes or UNLIMITED) is longer than `max`.
local function exceeds(asked, max)
	if max == UNLIMITED then
		return false
	end
	return asked == UNLIMITED or asked > max
end

--------------------------------------------------------------- component

local function count32(v)
	if v == nil or v == NO_VAL or v == INFINITE or v == 0 then
		return nil
	end
	return v
end

local function count16(v)
	if v == nil or v == NO_VAL16 or v == INFINITE16 or v == 0 then
		return nil
	end
	return v
end

local function text_or_nil(v)
	if v == nil or v == "" then
		return nil
	end
	return v
end

-- The component view of a job_desc: each field is read once (every read
-- of job_desc calls into slurmctld).
local function component_of(job_desc)
	local c = {}
	local offset = job_desc.het_job_offset
	if offset == nil or offset == NO_VAL or job_desc.cron_job then
		c.index = nil -- a plain job
		c.who = "job"
	else
		c.index = offset
		c.who = "hetjob component " .. offset
	end
	c.partition = text_or_nil(job_desc.partition)
	c.qos = text_or_nil(job_desc.qos)
	c.requests = {}
	c.has_tres = false
	local fields = { "tres_per_job", "tres_per_node", "tres_per_socket", "tres_per_task" }
	local scopes = { "job", "node", "socket", "task" }
	for i = 1, 4 do
		local tres = job_desc[fields[i]]
		if tres ~= nil then
			c.has_tres = true
			parse_tres(tres, c.requests, scopes[i])
		end
	end
	c.nodes = count32(job_desc.min_nodes)
	c.tasks = count32(job_desc.num_tasks)
	c.cpus_per_task = count16(job_desc.cpus_per_task)
	c.min_cpus = count32(job_desc.min_cpus)
	local per_node = job_desc.min_mem_per_node
	local per_cpu = job_desc.min_mem_per_cpu
	if per_node ~= nil and per_node < TWO_63 and per_node > 0 then
		c.mem_per_node = per_node
	elseif per_cpu ~= nil and per_cpu < TWO_63 and per_cpu > 0 then
		c.mem_per_cpu = per_cpu
	end
	local t = job_desc.time_limit
	if t ~= nil and t ~= NO_VAL then
		c.time_limit = (t == INFINITE) and UNLIMITED or t
	end
	c.std_out = job_desc.std_out
	c.std_err = job_desc.std_err
	c.std_in = job_desc.std_in
	-- spank_job_env: a table indexed from 0, or nil.
	c.job_env = {}
	local env = job_desc.spank_job_env
	if env then
		local n = job_desc.spank_job_env_size or 0
		for i = 0, n - 1 do
			if env[i] then
				c.job_env[#c.job_env + 1] = env[i]
			end
		end
	end
	return c
end

-- The component's value for a site option (the last entry wins); an
-- empty value is none.
local function option_value(c, option)
	local prefix = option.job_env .. "="
	for i = #c.job_env, 1, -1 do
		local entry = c.job_env[i]
		if entry:sub(1, #prefix) == prefix then
			local value = entry:sub(#prefix + 1)
			if value == "" then
				return nil
			end
			return value
		end
	end
	return nil
end

-- The first GRES entry that cannot be read.
local function gres_error(c)
	for _, r in ipairs(c.requests) do
		if r.error then
			return r.error
		end
	end
	return nil
end

-- True when the component asks for at least one `name`.
local function requests_gres(c, name)
	for _, r in ipairs(c.requests) do
		if not r.error and r.count > 0 and r.name == name then
			return true
		end
	end
	return false
end

-- How many `name` the whole component asks for.
local function gres_total(c, name)
	local nodes = c.nodes or 1
	local tasks = c.tasks or 1
	local total = 0
	for _, r in ipairs(c.requests) do
		if not r.error and r.name == name then
			local times = 1
			if r.scope == "node" or r.scope == "socket" then
				times = nodes
			elseif r.scope == "task" then
				times = tasks
			end
			total = total + r.count * times
		end
	end
	return total
end

local function node_count(c)
	return c.nodes or 1
end

local function cpu_count(c)
	local n = (c.tasks or 1) * (c.cpus_per_task or 1)
	return math.max(n, c.min_cpus or 0)
end

local function memory_total(c)
	if c.mem_per_node then
		return c.mem_per_node * node_count(c)
	elseif c.mem_per_cpu then
		return c.mem_per_cpu * cpu_count(c)
	end
	return nil
end

--------------------------------------------------------------- rules

-- A rejection: the error code and the message.
local function reject(code, message)
	return { code = code, message = message }
end

-- Partition names of a list ("a,b"), trimmed, non-empty.
local function partition_list(list)
	local out = {}
	if list == nil then
		return out
	end
	for _, p in ipairs(split(list, ",")) do
		p = trim(p)
		if p ~= "" then
			out[#out + 1] = p
		end
	end
	return out
end

local function contains(list, value)
	for _, v in ipairs(list) do
		if v == value then
			return true
		end
	end
	return false
end

-- "partition gpu", with how it was chosen when the user did not name it.
local function describe(parts, p)
	if parts.chosen == "routed" then
		return fmt("partition %s (where the policy routes it)", p)
	elseif parts.chosen == "default" then
		return fmt("partition %s (the default partition)", p)
	end
	return "partition " .. p
end

-- accelerators: a partition list the user named.
local function check_explicit(c, list)
	local names = partition_list(list)
	for _, r in ipairs(c.requests) do
		local rule = (not r.error and r.count > 0) and POLICY.accelerators[r.name] or nil
		if rule then
			for _, p in ipairs(names) do
				if not contains(rule.partitions, p) then
					return reject(
						ERR.InvalidPartitionName,
						fmt(
							"%s requests %s on partition %s; %s components must use "
								.. "--partition=%s (policy: accelerators.%s)",
							c.who,
							request_text(r),
							p,
							r.name,
							table.concat(rule.partitions, ","),
							r.name
						)
					)
				end
			end
		end
	end
	return nil
end

-- accelerators: returns the partitions the component ends up on (or a
-- rejection), routing it when a `route` rule applies.
local function check_accelerators(c, changes)
	if c.partition then
		local bad = check_explicit(c, c.partition)
		if bad then
			return nil, bad
		end
		return { names = partition_list(c.partition), chosen = "explicit" }
	end
	local routed = nil
	for _, r in ipairs(c.requests) do
		local rule = (not r.error and r.count > 0) and POLICY.accelerators[r.name] or nil
		if rule and rule.action == "route" then
			routed = rule.partitions[1]
			break
		end
	end
	local target = routed or POLICY.default_partition
	for _, r in ipairs(c.requests) do
		local rule = (not r.error and r.count > 0) and POLICY.accelerators[r.name] or nil
		if rule and not (target and contains(rule.partitions, target)) then
			return nil,
				reject(
					ERR.InvalidPartitionName,
					fmt(
						"%s requests %s but names no partition; %s components must use "
							.. "--partition=%s (policy: accelerators.%s)",
						c.who,
						request_text(r),
						r.name,
						table.concat(rule.partitions, ","),
						r.name
					)
				)
		end
	end
	changes.partition = routed
	return { names = partition_list(target), chosen = routed and "routed" or "default" }
end

-- partitions.<p>.reserved_for
local function check_reserved(c, parts)
	for _, p in ipairs(parts.names) do
		local rule = POLICY.partitions[p]
		if rule and #rule.reserved_for > 0 then
			local ok = false
			for _, g in ipairs(rule.reserved_for) do
				if requests_gres(c, g) then
					ok = true
					break
				end
			end
			if not ok then
				local reserved = table.concat(rule.reserved_for, " or ")
				return reject(
					ERR.InvalidGres,
					fmt(
						"%s runs on %s without requesting %s; partition %s is reserved for %s "
							.. "components: add --gres=%s:1 (or the count you need), or use another "
							.. "partition (policy: partitions.%s.reserved_for)",
						c.who,
						describe(parts, p),
						reserved,
						p,
						reserved,
						rule.reserved_for[1],
						p
					)
				)
			end
		end
	end
	return nil
end

-- The first limit of `limits` the component goes over: kind, asked, max
-- (and the GRES name).
local function breach(limits, c)
	for _, pair in ipairs(limits.max_gres or {}) do
		local asked = gres_total(c, pair[1])
		if asked > pair[2] then
			return "gres", asked, pair[2], pair[1]
		end
	end
	if limits.max_nodes and node_count(c) > limits.max_nodes then
		return "nodes", node_count(c), limits.max_nodes
	end
	if limits.max_cpus and cpu_count(c) > limits.max_cpus then
		return "cpus", cpu_count(c), limits.max_cpus
	end
	local mem = memory_total(c)
	if limits.max_memory and mem and mem > limits.max_memory then
		return "memory", mem, limits.max_memory
	end
	if limits.max_time and c.time_limit and exceeds(c.time_limit, limits.max_time) then
		return "time", c.time_limit, limits.max_time
	end
	return nil
end

local function fits(qos_name, c)
	local limits = POLICY.qos[qos_name]
	return limits == nil or breach(limits, c) == nil
end

-- partitions.<p>.qos.allowed
local function check_allowed_qos(c, qos, parts)
	for _, p in ipairs(parts.names) do
		local rule = POLICY.partitions[p]
		local allowed = rule and rule.allowed_qos
		if allowed and not contains(allowed, qos) then
			local suggestion = allowed[1]
			for _, a in ipairs(allowed) do
				if fits(a, c) then
					suggestion = a
					break
				end
			end
			return reject(
				ERR.InvalidQos,
				fmt(
					"%s uses QOS %s on %s; partition %s allows QOS %s: use --qos=%s "
						.. "(policy: partitions.%s.qos.allowed)",
					c.who,
					qos,
					describe(parts, p),
					p,
					table.concat(allowed, ", "),
					suggestion,
					p
				)
			)
		end
	end
	return nil
end

-- qos.<name> limits; `parts` (may be nil) lets the message suggest another
-- QOS the partition allows.
local function check_limits(c, qos, parts)
	local limits = POLICY.qos[qos]
	if not limits then
		return nil
	end
	local kind, asked, max, name = breach(limits, c)
	if not kind then
		return nil
	end
	local or_qos = ""
	local first = parts and parts.names[1]
	local rule = first and POLICY.partitions[first]
	if rule and rule.allowed_qos then
		for _, a in ipairs(rule.allowed_qos) do
			if a ~= qos and fits(a, c) then
				or_qos = ", or use --qos=" .. a
				break
			end
		end
	end
	local who = c.who
	if kind == "gres" then
		local head = fmt("%s requests %d %s with QOS %s; ", who, asked, name, qos)
		if max == 0 then
			return reject(
				ERR.AccountingPolicy,
				head
					.. fmt(
						"QOS %s allows no %s: remove the %s request%s (policy: qos.%s.max_gres.%s)",
						qos,
						name,
						name,
						or_qos,
						qos,
						name
					)
			)
		end
		return reject(
			ERR.AccountingPolicy,
			head
				.. fmt(
					"QOS %s allows at most %d %s per component: request at most %d%s "
						.. "(policy: qos.%s.max_gres.%s)",
					qos,
					max,
					name,
					max,
					or_qos,
					qos,
					name
				)
		)
	elseif kind == "nodes" then
		return reject(
			ERR.AccountingPolicy,
			fmt(
				"%s requests %d nodes with QOS %s; QOS %s allows at most %d nodes per component: "
					.. "use --nodes=%d or fewer%s (policy: qos.%s.max_nodes)",
				who,
				asked,
				qos,
				qos,
				max,
				max,
				or_qos,
				qos
			)
		)
	elseif kind == "cpus" then
		return reject(
			ERR.AccountingPolicy,
			fmt(
				"%s requests %d CPUs with QOS %s; QOS %s allows at most %d CPUs per component: "
					.. "lower --ntasks or --cpus-per-task%s (policy: qos.%s.max_cpus)",
				who,
				asked,
				qos,
				qos,
				max,
				or_qos,
				qos
			)
		)
	elseif kind == "memory" then
		return reject(
			ERR.AccountingPolicy,
			fmt(
				"%s requests %s of memory with QOS %s; QOS %s allows at most %s per component: "
					.. "lower --mem or --mem-per-cpu%s (policy: qos.%s.max_memory)",
				who,
				memory_text(asked),
				qos,
				qos,
				memory_text(max),
				or_qos,
				qos
			)
		)
	end
	return reject(
		ERR.InvalidTimeLimit,
		fmt(
			"%s requests time limit %s with QOS %s; QOS %s allows at most %s: use --time=%s or "
				.. "less%s (policy: qos.%s.max_time)",
			who,
			time_text(asked),
			qos,
			qos,
			time_text(max),
			time_text(max),
			or_qos,
			qos
		)
	)
end

-- qos and partitions.<p>.qos: the default QOS, what is allowed, limits.
local function check_qos(c, parts, changes)
	local qos = c.qos
	if not qos then
		local first = parts.names[1]
		local rule = first and POLICY.partitions[first]
		qos = rule and rule.default_qos
		changes.qos = qos
		if not qos then
			-- The user's association default applies, which the policy
			-- cannot see.
			return nil
		end
	end
	local bad = check_allowed_qos(c, qos, parts) or check_limits(c, qos, parts)
	if bad then
		return bad
	end
	if c.time_limit == nil then
		local limits = POLICY.qos[qos]
		changes.time_limit = limits and limits.max_time
	end
	return nil
end

-- options: a site option's value must be allowed, and components on its
-- required_on partitions, or requesting its required_on GRES, must give it.
local function check_options(c, parts)
	for _, option in ipairs(POLICY.options) do
		local name = option.name
		local value = option_value(c, option)
		if value then
			if #option.values > 0 and not contains(option.values, value) then
				return reject(
					ERR.AccessDenied,
					fmt(
						"%s sets --%s=%s, which is not allowed; use one of: %s (policy: "
							.. "options.%s.values)",
						c.who,
						name,
						value,
						table.concat(option.values, ", "),
						name
					)
				)
			end
		else
			local needs = nil
			for _, p in ipairs(parts.names) do
				if contains(option.required_partitions, p) then
					needs = "runs on " .. describe(parts, p)
					break
				end
			end
			if not needs then
				for _, g in ipairs(option.required_gres) do
					if requests_gres(c, g) then
						needs = "requests " .. g
						break
					end
				end
			end
			if needs then
				local choices = ""
				if #option.values > 0 then
					choices = " with one of: " .. table.concat(option.values, ", ")
				end
				return reject(
					ERR.AccessDenied,
					fmt(
						"%s %s without --%s; add --%s=%s%s to this component (policy: "
							.. "options.%s.required_on)",
						c.who,
						needs,
						name,
						name,
						option.arg,
						choices,
						name
					)
				)
			end
		end
	end
	return nil
end

-- What earlier components of the submission in progress left behind.
-- job_submit/lua runs one call at a time (a global lock), and slurmctld
-- validates a hetjob's components in order.
local hetjob = { next = nil, first_io = {}, totals = {} }

-- io_files.first_component_only
local function check_io(c)
	if not POLICY.io_first_component_only or c.index == nil or c.index == 0 then
		return nil
	end
	local fields = {
		{ "--output", "output", c.std_out, hetjob.first_io.std_out },
		{ "--error", "error", c.std_err, hetjob.first_io.std_err },
		{ "--input", "input", c.std_in, hetjob.first_io.std_in },
	}
	for _, f in ipairs(fields) do
		local option, kind, value, first = f[1], f[2], f[3], f[4]
		if value ~= nil and value ~= first then
			local first_text = first and (option .. "=" .. first) or "Slurm's default"
			return reject(
				ERR.NotSupported,
				fmt(
					"%s sets %s=%s, but Slurm uses only the first component's %s file (here %s) "
						.. "and silently ignores this one; give %s on the first component only "
						.. "(policy: io_files.first_component_only)",
					c.who,
					option,
					value,
					kind,
					first_text,
					option
				)
			)
		end
	end
	return nil
end

-- hetjob.max_components
local function check_component_count(c)
	local max = POLICY.hetjob.max_components
	if c.index == nil or max == nil or c.index < max then
		return nil
	end
	return reject(
		ERR.AccountingPolicy,
		fmt(
			"%s is one too many: a hetjob may have at most %d components (0 to %d); merge "
				.. "components or submit separate jobs (policy: hetjob.max_components)",
			c.who,
			max,
			max - 1
		)
	)
end

-- hetjob.max_total_gres
local function check_totals(c)
	if c.index == nil then
		return nil
	end
	for i, pair in ipairs(POLICY.hetjob.max_total_gres) do
		local name, max = pair[1], pair[2]
		local before = hetjob.totals[i] or 0
		local total = before + gres_total(c, name)
		if total > max then
			return reject(
				ERR.AccountingPolicy,
				fmt(
					"%s brings the hetjob's %s to %d (%d in earlier components); a hetjob may "
						.. "request at most %d %s in total: request fewer (policy: "
						.. "hetjob.max_total_gres.%s)",
					c.who,
					name,
					total,
					before,
					max,
					name,
					name
				)
			)
		end
	end
	return nil
end

-- Judges one component: the changes to apply, or a rejection.
local function judge(c, in_order)
	local entry = gres_error(c)
	if entry then
		return nil,
			reject(
				ERR.InvalidGres,
				fmt(
					"%s: cannot read the GRES request '%s': expected NAME, NAME:COUNT or "
						.. "NAME:TYPE:COUNT; write it as --gres=NAME:COUNT, e.g. --gres=gpu:1",
					c.who,
					entry
				)
			)
	end
	local bad = check_component_count(c)
	if bad then
		return nil, bad
	end
	local changes = {}
	local parts
	parts, bad = check_accelerators(c, changes)
	if bad then
		return nil, bad
	end
	bad = check_reserved(c, parts) or check_qos(c, parts, changes) or check_options(c, parts)
	if bad then
		return nil, bad
	end
	if in_order then
		bad = check_io(c) or check_totals(c)
		if bad then
			return nil, bad
		end
	end
	return changes
end

-- Judges one component and keeps the hetjob's state.
local function evaluate(c)
	local in_order
	if c.index == nil then
		hetjob.next = nil
		in_order = true
	elseif c.index == 0 then
		hetjob.next = 0
		hetjob.totals = {}
		in_order = true
	else
		in_order = (hetjob.next == c.index)
	end
	local changes, bad = judge(c, in_order)
	if bad then
		hetjob.next = nil
		return nil, bad
	end
	if c.index == nil or not in_order then
		hetjob.next = nil
	else
		if c.index == 0 then
			hetjob.first_io = { std_out = c.std_out, std_err = c.std_err, std_in = c.std_in }
		end
		for i, pair in ipairs(POLICY.hetjob.max_total_gres) do
			hetjob.totals[i] = (hetjob.totals[i] or 0) + gres_total(c, pair[1])
		end
		hetjob.next = c.index + 1
	end
	return changes
end

--------------------------------------------------------------- entry points

function slurm_job_submit(job_desc, part_list, submit_uid)
	local c = component_of(job_desc)
	local changes, bad = evaluate(c)
	if bad then
		slurm.log_info("uid %d: rejected: %s", submit_uid, bad.message)
		slurm.log_user("%s", bad.message)
		return bad.code
	end
	if changes.partition and c.partition == nil then
		job_desc.partition = changes.partition
	end
	if changes.qos and c.qos == nil then
		job_desc.qos = changes.qos
	end
	if changes.time_limit and changes.time_limit ~= UNLIMITED and job_desc.time_limit == NO_VAL then
		job_desc.time_limit = changes.time_limit
	end
	return slurm.SUCCESS
end

function slurm_job_modify(job_desc, job_rec, part_list, modify_uid)
	-- An update is judged as a plain job, from the fields it carries.
	local c = component_of(job_desc)
	c.index = nil
	c.who = "job"
	local entry = gres_error(c)
	local bad = nil
	if entry then
		bad = reject(
			ERR.InvalidGres,
			fmt(
				"job update: cannot read the GRES request '%s': expected NAME, NAME:COUNT or "
					.. "NAME:TYPE:COUNT; write it as gres=NAME:COUNT, e.g. gres=gpu:1",
				entry
			)
		)
	end
	if not bad and c.partition then
		local parts = { names = partition_list(c.partition), chosen = "explicit" }
		if c.has_tres then
			bad = check_explicit(c, c.partition) or check_reserved(c, parts)
		end
		if not bad and c.qos then
			bad = check_allowed_qos(c, c.qos, parts)
		end
	end
	if not bad and c.qos then
		bad = check_limits(c, c.qos, nil)
	end
	if bad then
		slurm.log_info("uid %d: update rejected: %s", modify_uid, bad.message)
		slurm.log_user("%s", bad.message)
		return bad.code
	end
	return slurm.SUCCESS
end

slurm.log_info("hetpolicy reference policy loaded")
return slurm.SUCCESS
