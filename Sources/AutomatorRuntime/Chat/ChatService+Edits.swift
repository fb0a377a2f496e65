import Foundation
import Logging

extension ChatService {
    /// A person's edit of their message: kept in a war room's journal as an edit, and given to
    /// the watcher where it watches, which answers what the edit added in the message's thread.
    /// An edit runs no command and answers no question: a command is not run again because its
    /// text was corrected.
    func receive(edit: ChatMessage, from adapter: any ChatAdapter) async {
        var message = edit
        // Matrix sends only the new text: the message as the bot last checked it tells the rest.
        // That text is kept in the store too (a week: `ChatSweeper`): after a restart the
        // homeserver gives the original, and what an earlier edit added would be answered again.
        let unknown = edit.edit?.previousText == nil
        let before = await self.message(edit.id, in: edit.channel, on: adapter, askingTheNetwork: unknown)
        if unknown {
            message.edit?.previousText = (try? await store.editedText(network: adapter.network, channel: edit.channel.id,
                                                                      message: edit.id)) ?? before?.text
            message.thread = before?.thread
        }
        guard message.text != message.edit?.previousText else { return }
        var edited = before ?? message
        edited.text = message.text
        edited.links = message.links
        edited.edit = nil
        recent.withLock { $0.remember(edited, network: adapter.network) }  // the next edit's text before
        if unknown {
            let kept = ChatEditedText(network: adapter.network, channel: edit.channel.id, message: edit.id,
                                      text: message.text)
            do { try await store.write(.keepEditedText(kept)) } catch {
                logger.error("chat: the text of an edit cannot be kept (after a restart, its next edit is compared with the message): \(error)")
            }
        }

        let channel = settings.withLock { $0[Self.key(adapter.network, message.channel.id)] }
        if let incident = channel?.incident { await journal(message, on: incident, from: adapter) }
        guard message.channel.isDirect || channel?.watched == true, Self.hasIndicators(message),
              let (runs, catalog) = attached.withLock({ $0 })
        else { return }
        await watch(message, in: channel, runs: runs, catalog: catalog, adapter: adapter)
    }
}
