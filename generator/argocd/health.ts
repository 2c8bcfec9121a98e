// Argo CD removed the health check of Application resources in 1.8, so an app-of-apps parent no
// longer waits for its children in sync waves. This restores it in argocd-cm, stricter than the
// documented snippet: a child counts as healthy only once it has synced, fully, and is healthy.
// Plain Lua 5.1 (Argo CD runs gopher-lua).

export const applicationHealthKey = "resource.customizations.health.argoproj.io_Application";

export const applicationHealthLua = `hs = {}
hs.status = "Progressing"
hs.message = "waiting for the Application to sync"
if obj.status == nil or obj.status.operationState == nil then
  return hs
end
local phase = obj.status.operationState.phase
if phase == "Failed" or phase == "Error" then
  hs.status = "Degraded"
  hs.message = obj.status.operationState.message or ("sync " .. phase)
  return hs
end
if phase ~= "Succeeded" then
  hs.message = "sync " .. tostring(phase)
  return hs
end
if obj.status.sync == nil or obj.status.sync.status ~= "Synced" then
  hs.message = "waiting for sync, status " .. tostring(obj.status.sync and obj.status.sync.status)
  return hs
end
if obj.status.health ~= nil and obj.status.health.status ~= nil then
  hs.status = obj.status.health.status
  hs.message = obj.status.health.message or ""
end
return hs
`;
