// Argo CD removed the health check of Application resources in 1.8, so an app-of-apps parent no
// longer waits for its children in sync waves. This restores it in argocd-cm, stricter than the
// documented snippet (which reads only status.health): a child counts as healthy once it is Synced
// and its resources are healthy, and a sync still running or failed wins over both. A child needs no
// sync operation of its own: one re-created over existing objects is Synced at once and never gets
// one. Plain Lua 5.1 (Argo CD runs gopher-lua).

export const applicationHealthKey = "resource.customizations.health.argoproj.io_Application";

export const applicationHealthLua = `hs = {}
hs.status = "Progressing"
hs.message = "waiting for the Application to sync"
if obj.status == nil then
  return hs
end
local operation = obj.status.operationState
if operation ~= nil then
  local phase = operation.phase
  if phase == "Failed" or phase == "Error" then
    hs.status = "Degraded"
    hs.message = operation.message or ("sync " .. phase)
    return hs
  end
  if phase ~= "Succeeded" then
    hs.message = "sync " .. tostring(phase)
    return hs
  end
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

/**
 * Said at the top of the bootstrap files an admin applies: argocd-cm is the whole Argo CD's, not
 * the layer's (docs/argocd.md says more).
 */
export const argocdWideNotice = `ARGO CD-WIDE CHANGE, read before applying (docs/argocd.md).
argocd-cm-configmap.yaml sets one key of argocd-cm, which every Application of this Argo CD shares:
${applicationHealthKey}.
From then on, in EVERY app of apps of this Argo CD, a parent waits in its sync waves until each
child Application is Synced with healthy resources, and shows Degraded while a child's last sync
failed. Nothing else of argocd-cm changes. If another owner already set this key,
\`kubectl apply --server-side\` stops with a conflict: do not force it, agree on one check with them.
If argocd-cm is managed elsewhere (Helm values, an operator, an Argo CD app), put the key there.`;
